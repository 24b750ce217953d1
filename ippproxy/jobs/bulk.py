"""Many finished or waiting jobs at once, for benchmarks: a job history of a million rows
made in seconds, not through intake (no spool, no documents).

Rows go in with one driver ``executemany`` per chunk, and each queue's job-id counter is
moved past the ids used, so a server started on the database afterwards hands out new
ids as usual. Not for the server's own paths: a job made here has no document.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any

from sqlalchemy import Engine, func, insert, select, update

from ippproxy.jobs.ids import new_uuid
from ippproxy.jobs.models import jobs_t, queues_t
from ippproxy.jobs.state import JobState, default_reasons, is_terminal


@dataclass(frozen=True)
class BulkJob:
    queue: str
    job_id: int
    owner: str
    state: JobState
    created_at: dt.datetime
    completed_at: dt.datetime | None = None
    impressions: int | None = None
    impressions_col: int | None = None
    name: str | None = None


def _row(job: BulkJob) -> dict[str, Any]:
    done = is_terminal(job.state)
    return {
        "uuid": new_uuid(), "queue": job.queue, "job_id": job.job_id, "state": int(job.state),
        "state_reasons": list(default_reasons(job.state)), "state_message": None,
        "owner": job.owner, "name": job.name, "originating_host": None, "peer_address": None,
        "attributes": b"",
        "document_format": "application/pdf",
        "hold_until": "indefinite" if job.state == JobState.PENDING_HELD else None,
        "hold_until_time": None, "priority": 50, "created_at": job.created_at,
        "updated_at": job.completed_at or job.created_at,
        "processing_at": job.created_at if done else None,
        "completed_at": job.completed_at if done else None, "closed": True,
        "destination_uri": None, "remote_job_id": None, "forward_attempts": 0,
        "next_attempt_at": None if done else job.created_at, "forward_started": done,
        "impressions_completed": job.impressions if job.state == JobState.COMPLETED else None,
        "media_sheets_completed": None, "impressions": job.impressions,
        "impressions_col": job.impressions_col, "analysis": None, "node": None,
        "lease_until": None}


def _chunks(jobs: Iterable[BulkJob], size: int) -> Iterator[list[BulkJob]]:
    it = iter(jobs)
    while chunk := list(islice(it, size)):
        yield chunk


def insert_jobs(engine: Engine, jobs: Iterable[BulkJob], *, chunk: int = 20000) -> int:
    """Store ``jobs`` (their ``(queue, job_id)`` must be new); returns how many."""
    total = 0
    stmt = insert(jobs_t)
    for part in _chunks(jobs, chunk):
        with engine.begin() as conn:
            for queue in {j.queue for j in part}:
                if conn.execute(select(queues_t.c.name).where(queues_t.c.name == queue)
                                ).first() is None:
                    conn.execute(insert(queues_t), {"name": queue, "next_job_id": 1})
            conn.execute(stmt, [_row(j) for j in part])
        total += len(part)
    with engine.begin() as conn:
        highest = select(jobs_t.c.queue, func.max(jobs_t.c.job_id)).group_by(jobs_t.c.queue)
        for queue, top in conn.execute(highest).all():
            conn.execute(update(queues_t).where(queues_t.c.name == queue,
                                                queues_t.c.next_job_id <= top)
                         .values(next_job_id=top + 1))
    return total
