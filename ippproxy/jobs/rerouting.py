"""A held job released at another queue, in one transaction (a Find-Me release, issue 17).

``release_to`` checks under the job's row lock that it still is what the caller saw (held
on ``expected`` and nobody working on it), replaces its documents when the caller converted
them for the new printer (the old spool names are returned: the caller deletes the files
once this committed), writes its attributes and analysis, moves it to ``queue`` with that
queue's next job-id (as ``moving.move``) and releases it (``Release-Job``, RFC 8011
§4.3.7 through the state table). Either all of it happens or none.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, delete, update

from ippproxy.jobs import writes
from ippproxy.jobs._create import (
    allocate_job_ids,
    copy_rows,
    counted,
    document_rows,
    insert_documents,
)
from ippproxy.jobs.models import documents_t, jobs_t, spool_copies_t
from ippproxy.jobs.moving import JobNotMovable
from ippproxy.jobs.records import JobNotFound, JobRecord, NewDocument, load_job
from ippproxy.jobs.state import JobEvent, JobState


def release_to(conn: Connection, uuid: str, queue: str, now: dt.datetime, *, expected: str,
               attributes: bytes, analysis: Mapping[str, Any], message: str,
               documents: Sequence[NewDocument] = ()) -> tuple[JobRecord, tuple[str, ...]]:
    """The released job, and the spool names of the documents it no longer has."""
    rec = load_job(conn, uuid, for_update=True)
    if rec is None:
        raise JobNotFound(uuid)
    if rec.queue != expected or rec.state != JobState.PENDING_HELD:
        raise JobNotMovable(f"job {uuid} is {rec.state.keyword} on {rec.queue}: released "
                            "already, or canceled")
    if rec.forward_started or rec.node is not None:
        raise JobNotMovable(f"job {uuid} is being sent to its printer")
    values: dict[str, Any] = {"queue": queue, "job_id": allocate_job_ids(conn, queue),
                              "destination_uri": None, "attributes": attributes,
                              "analysis": dict(analysis), **counted(dict(analysis)),
                              "updated_at": now}
    dropped: tuple[str, ...] = ()
    if documents:
        dropped = tuple(d.spool_name for d in rec.documents)
        conn.execute(delete(spool_copies_t).where(spool_copies_t.c.job_uuid == uuid))
        conn.execute(delete(documents_t).where(documents_t.c.job_uuid == uuid))
        insert_documents(conn, document_rows(uuid, 1, documents, now),
                         copy_rows(uuid, documents))
        values["document_format"] = documents[0].format
    conn.execute(update(jobs_t).where(jobs_t.c.uuid == uuid).values(values))
    released = writes.transition(conn, uuid, JobEvent.RELEASE, None, message[:255], now, {})
    return released, dropped
