"""Job creation, one at a time or a whole group-commit batch at once.

The intake path (Print-Job, Create-Job) is the hot one: :func:`create_jobs` takes
every create of one writer batch and stores them with one ``UPDATE queues ...
RETURNING`` per queue (job-ids are handed out in blocks) and one executemany
INSERT each for jobs and documents, instead of three statements per job. If any of
them fails, the writer reruns the batch one op at a time (:func:`create_job`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, insert, update
from sqlalchemy.exc import IntegrityError

from ippproxy.jobs.models import documents_t, jobs_t, queues_t
from ippproxy.jobs.records import JobRecord, NewDocument, doc_from_row, job_from_row
from ippproxy.jobs.state import INCOMING_REASONS, JobState, default_reasons, merge_reasons


@dataclass(frozen=True)
class NewJob:
    uuid: str
    queue: str
    owner: str
    name: str | None
    attributes: bytes
    document_format: str | None
    hold_until: str | None
    hold_until_time: dt.datetime | None
    priority: int
    originating_host: str | None
    destination_uri: str | None
    documents: tuple[NewDocument, ...]
    closed: bool
    reasons: tuple[str, ...] | None
    message: str | None
    analysis: dict[str, Any] | None


# Statements built once: executing them with a parameter dict skips SQLAlchemy's
# per-call statement construction and cache-key work.
_BUMP = (
    update(queues_t)
    .where(queues_t.c.name == bindparam("qname"))
    .values(next_job_id=queues_t.c.next_job_id + bindparam("count"))
    .returning(queues_t.c.next_job_id)
)
_NEW_QUEUE = insert(queues_t)
_INSERT_JOB = insert(jobs_t)
_INSERT_DOCS = insert(documents_t)


def allocate_job_ids(conn: Connection, queue: str, count: int = 1) -> int:
    """Reserve ``count`` consecutive job-ids of ``queue``; returns the first.

    The counter only grows, so ids are never reused (not after deletion, not after a
    restart). ``UPDATE ... RETURNING`` locks the queue row until COMMIT, so two
    processes on one PostgreSQL never hand out the same id.
    """
    params = {"qname": queue, "count": count}
    new = conn.execute(_BUMP, params).scalar_one_or_none()
    if new is None:
        try:
            with conn.begin_nested():
                conn.execute(_NEW_QUEUE, {"name": queue, "next_job_id": 1})
        except IntegrityError:  # another node created it first
            pass
        new = conn.execute(_BUMP, params).scalar_one()
    return int(new) - count


def _rows(spec: NewJob, job_id: int, now: dt.datetime) -> tuple[dict[str, Any], list[Any]]:
    state = JobState.PENDING_HELD if spec.hold_until else JobState.PENDING
    reasons = spec.reasons if spec.reasons is not None else default_reasons(state)
    if not spec.closed:
        reasons = merge_reasons(reasons, add=INCOMING_REASONS)
    job: dict[str, Any] = {
        "uuid": spec.uuid,
        "queue": spec.queue,
        "job_id": job_id,
        "state": int(state),
        "state_reasons": list(reasons),
        "state_message": spec.message,
        "owner": spec.owner,
        "name": spec.name,
        "originating_host": spec.originating_host,
        "attributes": spec.attributes,
        "document_format": spec.document_format,
        "hold_until": spec.hold_until,
        "hold_until_time": spec.hold_until_time,
        "priority": spec.priority,
        "created_at": now,
        "updated_at": now,
        "processing_at": None,
        "completed_at": None,
        "closed": spec.closed,
        "destination_uri": spec.destination_uri,
        "remote_job_id": None,
        "forward_attempts": 0,
        "next_attempt_at": None,
        "forward_started": False,
        "impressions_completed": None,
        "media_sheets_completed": None,
        "analysis": spec.analysis,
        "node": None,
        "lease_until": None,
    }
    return job, document_rows(spec.uuid, 1, spec.documents, now)


def document_rows(
    job_uuid: str, first: int, docs: Sequence[NewDocument], now: dt.datetime
) -> list[dict[str, Any]]:
    return [
        {
            "job_uuid": job_uuid,
            "number": first + i,
            "name": d.name,
            "format": d.format,
            "spool_name": d.spool_name,
            "size": d.size,
            "sha256": d.sha256,
            "compression": d.compression,
            "created_at": now,
        }
        for i, d in enumerate(docs)
    ]


def create_job(conn: Connection, arg: tuple[NewJob, dt.datetime]) -> JobRecord:
    return create_jobs(conn, [arg])[0]


def create_jobs(conn: Connection, args: Sequence[tuple[NewJob, dt.datetime]]) -> list[JobRecord]:
    """Store several new jobs; returns their records in the order of ``args``."""
    by_queue: dict[str, list[int]] = defaultdict(list)
    for i, (spec, _) in enumerate(args):
        by_queue[spec.queue].append(i)
    ids: dict[int, int] = {}
    for queue in sorted(by_queue):  # a fixed lock order: no deadlock between nodes
        first = allocate_job_ids(conn, queue, len(by_queue[queue]))
        ids.update((i, first + n) for n, i in enumerate(by_queue[queue]))
    jobs: list[dict[str, Any]] = []
    docs: list[list[dict[str, Any]]] = []
    for i, (spec, now) in enumerate(args):
        job, doc_rows = _rows(spec, ids[i], now)
        jobs.append(job)
        docs.append(doc_rows)
    conn.execute(_INSERT_JOB, jobs)
    all_docs = [d for rows in docs for d in rows]
    if all_docs:
        conn.execute(_INSERT_DOCS, all_docs)
    return [
        job_from_row(job, [doc_from_row(d) for d in rows])
        for job, rows in zip(jobs, docs, strict=True)
    ]
