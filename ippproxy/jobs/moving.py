"""Moving a job that has not started to another queue (the admin's "move", CUPS-Move-Job).

The job gets the next job-id of its new queue (ids are per queue and never reused,
``_create.allocate_job_ids``) and keeps its UUID, documents, state and charge. Only a job
nobody is working on moves: pending or held, never claimed by a forwarder, never sent.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, update

from ippproxy.jobs._create import allocate_job_ids
from ippproxy.jobs.models import jobs_t
from ippproxy.jobs.records import JobNotFound, JobRecord, load_job
from ippproxy.jobs.state import JobState

MOVABLE = (JobState.PENDING, JobState.PENDING_HELD)


class JobNotMovable(Exception):
    """The job is processing, ended, claimed or already sent; the message says which."""


def move(conn: Connection, uuid: str, queue: str, now: dt.datetime) -> JobRecord:
    rec = load_job(conn, uuid, for_update=True)
    if rec is None:
        raise JobNotFound(uuid)
    if rec.state not in MOVABLE:
        raise JobNotMovable(f"job {uuid} is {rec.state.keyword}: only pending or held "
                            "jobs move")
    if rec.forward_started or rec.node is not None:
        raise JobNotMovable(f"job {uuid} is being sent to its printer")
    if rec.queue == queue:
        return rec
    job_id = allocate_job_ids(conn, queue)
    conn.execute(update(jobs_t).where(jobs_t.c.uuid == uuid).values(
        queue=queue, job_id=job_id, destination_uri=None, updated_at=now))
    moved = load_job(conn, uuid)
    assert moved is not None
    return moved
