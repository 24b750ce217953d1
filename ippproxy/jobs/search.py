"""The admin's job list: every state, filtered, sorted and paged (portable SQL).

Get-Jobs (``queries.list_jobs_stmt``) answers in processing order; the admin list instead
sorts by a column from a fixed table (``SORTS``, never a name from the request used as SQL)
with ``uuid`` as the tie-breaker, so that consecutive pages neither overlap nor skip.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select

from ippproxy.jobs.models import jobs_t

SORTS = {"created_at": jobs_t.c.created_at, "completed_at": jobs_t.c.completed_at,
         "job_id": jobs_t.c.job_id, "owner": jobs_t.c.owner, "queue": jobs_t.c.queue,
         "state": jobs_t.c.state, "priority": jobs_t.c.priority}


@dataclass(frozen=True)
class JobQuery:
    owner: str | None = None       # compared without regard to case
    queue: str | None = None
    states: tuple[int, ...] = ()   # JobState values; () is every state
    peer_address: str | None = None   # sent from this network address
    since: dt.datetime | None = None   # created at or after
    until: dt.datetime | None = None   # created before
    sort: str = "created_at"
    descending: bool = True
    offset: int = 0
    limit: int = 50


def _filtered(q: JobQuery) -> Select[Any]:
    j = jobs_t.c
    stmt = select(jobs_t)
    if q.owner is not None:
        # Jobs keep the requesting-user-name as sent ("Alice"); one user is one name
        # whatever its case (accounting/identity.py). SQLite's lower() folds ASCII only.
        stmt = stmt.where(func.lower(j.owner) == q.owner.lower())
    if q.queue is not None:
        stmt = stmt.where(j.queue == q.queue)
    if q.states:
        stmt = stmt.where(j.state.in_([int(s) for s in q.states]))
    if q.peer_address is not None:
        stmt = stmt.where(j.peer_address == q.peer_address)
    if q.since is not None:
        stmt = stmt.where(j.created_at >= q.since)
    if q.until is not None:
        stmt = stmt.where(j.created_at < q.until)
    return stmt


def search_stmt(q: JobQuery) -> Select[Any]:
    if q.sort not in SORTS:
        raise ValueError(f"cannot sort jobs by {q.sort!r}")
    column, tie = SORTS[q.sort], jobs_t.c.uuid
    order = (column.desc(), tie.desc()) if q.descending else (column.asc(), tie.asc())
    return _filtered(q).order_by(*order).offset(q.offset).limit(q.limit)


def count_stmt(q: JobQuery) -> Select[Any]:
    return select(func.count()).select_from(_filtered(q).subquery())
