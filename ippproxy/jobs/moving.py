"""Moving a job that has not started to another queue (the admin's "move", CUPS-Move-Job).

The job gets the next job-id of its new queue (ids are per queue and never reused,
``_create.allocate_job_ids``) and keeps its UUID, documents and state; its analysis may be
replaced in the same transaction (the price on the new queue, pipeline/requote.py). Only a
job nobody is working on moves: pending or held, never claimed by a forwarder, never sent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, update

from ippproxy.jobs._create import allocate_job_ids
from ippproxy.jobs.models import jobs_t
from ippproxy.jobs.records import JobNotFound, JobRecord, load_job
from ippproxy.jobs.state import JobState

MOVABLE = (JobState.PENDING, JobState.PENDING_HELD)


class JobNotMovable(Exception):
    """The job is processing, ended, claimed or already sent; the message says which."""


def can_move(rec: JobRecord) -> bool:
    """Whether ``rec`` as read may move (``move`` checks again under the row's lock)."""
    return rec.state in MOVABLE and not rec.forward_started and rec.node is None


def move(conn: Connection, uuid: str, queue: str, now: dt.datetime,
         analysis: Mapping[str, Any] | None = None) -> JobRecord:
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
    values: dict[str, Any] = {"queue": queue, "job_id": job_id, "destination_uri": None,
                              "updated_at": now}
    if analysis is not None:
        values["analysis"] = dict(analysis)
    conn.execute(update(jobs_t).where(jobs_t.c.uuid == uuid).values(values))
    moved = load_job(conn, uuid)
    assert moved is not None
    return moved
