"""A job as operators and users know it: its UUID, its job URI, or its queue and job-id.

The IPP ``job-id`` is unique within its queue only (RFC 8011 §5.3.2), so a job-id needs
its queue; a job URI carries both (``ipp://HOST:PORT/jobs/QUEUE/ID``, the form the server
hands out as ``job-uri``; the host and port are not checked). The queue and job-id are
looked up in the job store; the ledger only knows the job's UUID.
"""

from __future__ import annotations

import uuid
from urllib.parse import unquote, urlsplit

from sqlalchemy import Connection

from ippproxy.accounting.errors import NotFound
from ippproxy.jobs.queries import get_job, queue_and_ids

_SCHEMES = ("ipp", "ipps", "http", "https")
MAX_JOB_ID = 2**31 - 1  # job-id is an integer(1:MAX) (RFC 8011 §5.3.2)


def _job_id(text: str) -> int:
    s = text.strip()
    if not (s.isascii() and s.isdigit()) or not 1 <= int(s) <= MAX_JOB_ID:
        raise ValueError(f"a job-id is a whole number from 1 to {MAX_JOB_ID}, not {text!r}")
    return int(s)


def _from_uri(uri: str) -> tuple[str, int]:
    try:
        parts = urlsplit(uri)
    except ValueError:
        parts = None
    path = unquote(parts.path).strip("/").split("/") if parts else []
    if (parts is None or parts.scheme.lower() not in _SCHEMES or len(path) != 3
            or path[0] != "jobs" or not path[1]):
        raise ValueError(f"not a job URI (ipp://HOST:PORT/jobs/QUEUE/ID): {uri!r}")
    return path[1], _job_id(path[2])


def resolve(conn: Connection, job: str | None, queue: str | None,
            job_id: str | None) -> uuid.UUID:
    """The UUID of the job named by ``job`` (a UUID or a job URI) or by ``queue`` and
    ``job_id``; ValueError for a malformed reference, NotFound for no such job."""
    if job is not None and (queue is not None or job_id is not None):
        raise ValueError("name the job once: a UUID or job URI, or --queue and --job-id")
    if job is None:
        if queue is None or job_id is None:
            raise ValueError("name the job: its UUID, its job URI, or --queue and --job-id")
        name, number = queue, _job_id(job_id)
    elif "://" in job:
        name, number = _from_uri(job)
    else:
        try:
            return uuid.UUID(job.strip())
        except ValueError:
            raise ValueError(f"not a job UUID or job URI: {job!r}") from None
    record = get_job(conn, name, number)
    if record is None:
        raise NotFound(f"no job {number} on queue {name!r}")
    return uuid.UUID(record.uuid)


def name_jobs(conn: Connection, rows: list[dict[str, object]]) -> list[dict[str, object]]:
    """Ledger rows with ``queue`` and ``job_id`` beside ``job`` (the UUID), for the jobs
    the store still holds (None for the others and for rows of no job)."""
    found = queue_and_ids(conn, [str(r["job"]) for r in rows if r.get("job")])
    for r in rows:
        queue, number = found.get(str(r.get("job")), (None, None))
        r["queue"], r["job_id"] = queue, number
    return rows
