"""Read queries of the job store (portable SQLAlchemy Core)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    Text,
    and_,
    bindparam,
    case,
    cast,
    func,
    not_,
    or_,
    select,
)

from ippproxy.jobs._copies import CopyDamaged, unpack
from ippproxy.jobs.models import jobs_t, owner_is, queue_states_t, spool_copies_t
from ippproxy.jobs.records import JobRecord, QueueStateRecord, load_job, queue_state_from_row
from ippproxy.jobs.state import NOT_COMPLETED, TERMINAL, JobState

Which = Literal["not-completed", "completed", "all"]

_ACTIVE = [int(s) for s in NOT_COMPLETED]
_DONE = [int(s) for s in TERMINAL]

# The queues whose jobs are not forwarded (Pause-Printer). The claim and the forwarder's
# next wake-up leave them out in SQL, so every node on the database sees a pause at once.
PAUSED_QUEUES = select(queue_states_t.c.name).where(queue_states_t.c.paused.is_(True))

NEXT_ATTEMPT = select(func.min(jobs_t.c.next_attempt_at)).where(
    jobs_t.c.state == JobState.PENDING, jobs_t.c.closed.is_(True),
    jobs_t.c.queue.not_in(PAUSED_QUEUES),
)

_QUEUE_STATES = select(queue_states_t)


def claimable(due: dt.datetime, queues: tuple[str, ...] | None) -> list[ColumnElement[bool]]:
    """What makes a job claimable by the forwarder: pending, closed, due, of one of
    ``queues`` (None: any), its queue not paused. The claim's WHERE (writes.claim_stmt)
    and the read-only pre-check (:func:`any_claimable`); the index ix_jobs_claim serves
    both."""
    j = jobs_t.c
    where = [j.state == JobState.PENDING, j.closed.is_(True),
             or_(j.next_attempt_at.is_(None), j.next_attempt_at <= due)]
    if queues is not None:
        where.append(j.queue.in_(queues))
    where.append(j.queue.not_in(PAUSED_QUEUES))  # paused queues hold their jobs
    return where


# Claimed jobs (processing, or stopped at the printer) carry their node's lease.
LEASED = (int(JobState.PROCESSING), int(JobState.PROCESSING_STOPPED))


def expired_leases_stmt(now: dt.datetime) -> Select[Any]:
    """The claimed jobs whose lease ran out before ``now`` (their node stopped renewing)."""
    j = jobs_t.c
    return select(j.uuid).where(j.state.in_(LEASED), j.lease_until.is_not(None),
                                j.lease_until < now)


def any_expired_lease(conn: Connection, now: dt.datetime) -> bool:
    return conn.execute(expired_leases_stmt(now).limit(1)).first() is not None


def claimable_stmt(due: dt.datetime, queues: tuple[str, ...] | None) -> Select[Any]:
    """One claimable job's id, if any: one indexed row at most, no lock."""
    return select(jobs_t.c.job_id).where(*claimable(due, queues)).limit(1)


def any_claimable(conn: Connection, due: dt.datetime, queues: tuple[str, ...] | None) -> bool:
    """Is there a job the claim would take?"""
    return conn.execute(claimable_stmt(due, queues)).first() is not None


_COPY = select(spool_copies_t.c.content, spool_copies_t.c.encoding).where(
    spool_copies_t.c.spool_name == bindparam("name"))


_HAS_COPY = select(spool_copies_t.c.spool_name).where(
    spool_copies_t.c.spool_name == bindparam("name"))


def has_copy(conn: Connection, spool_name: str) -> bool:
    return conn.execute(_HAS_COPY, {"name": spool_name}).first() is not None


def copy_of(conn: Connection, spool_name: str) -> bytes | None:
    row = conn.execute(_COPY, {"name": spool_name}).one_or_none()
    try:
        return None if row is None else unpack(row.content, row.encoding)
    except CopyDamaged:
        return None   # as if there were none: the document cannot be read


def queue_and_ids(conn: Connection, uuids: list[str]) -> dict[str, tuple[str, int]]:
    """The queue and job-id of each job UUID still in the store (the ledger knows jobs
    by UUID; operators know them as ``queue`` and ``job-id``)."""
    if not uuids:
        return {}
    rows = conn.execute(select(jobs_t.c.uuid, jobs_t.c.queue, jobs_t.c.job_id)
                        .where(jobs_t.c.uuid.in_(sorted(set(uuids)))))
    return {str(r.uuid): (str(r.queue), int(r.job_id)) for r in rows}


# An expanding IN: one statement however many UUIDs (SQLAlchemy renders them at run time).
_STATES = select(jobs_t.c.uuid, jobs_t.c.state).where(
    jobs_t.c.uuid.in_(bindparam("uuids", expanding=True)))


def states_of(conn: Connection, uuids: Sequence[str]) -> dict[str, JobState]:
    """The state of each job UUID still in the store; a UUID not there is left out."""
    if not uuids:
        return {}
    return {str(r.uuid): JobState(r.state)
            for r in conn.execute(_STATES, {"uuids": sorted(set(uuids))})}


def get_job(conn: Connection, queue: str, job_id: int) -> JobRecord | None:
    uuid = conn.execute(
        select(jobs_t.c.uuid).where(jobs_t.c.queue == queue, jobs_t.c.job_id == job_id)
    ).scalar_one_or_none()
    return None if uuid is None else load_job(conn, uuid)


def queues_with_job_id(conn: Connection, job_id: int, among: Sequence[str]) -> list[str]:
    """Which of the queues ``among`` have a job with this job-id (job-ids are per queue);
    each (queue, job_id) pair is a probe of the unique index."""
    if not among:
        return []
    return sorted(conn.execute(
        select(jobs_t.c.queue).where(jobs_t.c.queue.in_(list(among)),
                                     jobs_t.c.job_id == job_id)).scalars())


def list_jobs_stmt(
    queue: str | None, which: Which, owner: str | None, limit: int | None
) -> Select[tuple[object, ...]]:
    """Get-Jobs, ordered as RFC 8011 §4.2.6.2 says: 'not-completed' jobs in the order
    they will be processed, 'completed' jobs newest (completion time) first."""
    j = jobs_t.c
    active = j.state.in_(_ACTIVE)
    rank = case(
        (j.state.in_([JobState.PROCESSING, JobState.PROCESSING_STOPPED]), 0),
        (j.state == JobState.PENDING, 1),
        (j.state == JobState.PENDING_HELD, 2),
        else_=3,
    )
    stmt = select(jobs_t)
    if queue is not None:
        stmt = stmt.where(j.queue == queue)
    if owner is not None:
        stmt = stmt.where(owner_is(owner))
    if which == "not-completed":
        stmt = stmt.where(active)
    elif which == "completed":
        stmt = stmt.where(j.state.in_(_DONE))
    elif which != "all":
        raise ValueError(f"which-jobs {which!r} is not supported")
    # completed_at is NULL for every active job, so it only orders the terminal ones.
    stmt = stmt.order_by(
        rank,
        case((active, j.priority), else_=0).desc(),
        j.completed_at.desc(),
        j.created_at,
        j.job_id,
    )
    return stmt if limit is None else stmt.limit(limit)


def count_stmt(queue: str | None, which: Which) -> Select[Any]:
    stmt = select(func.count()).select_from(jobs_t)
    if queue is not None:
        stmt = stmt.where(jobs_t.c.queue == queue)
    if which == "not-completed":
        stmt = stmt.where(jobs_t.c.state.in_(_ACTIVE))
    elif which == "completed":
        stmt = stmt.where(jobs_t.c.state.in_(_DONE))
    return stmt


def held_for(reason: str) -> ColumnElement[bool]:
    """Held with ``reason`` among its state reasons (a JSON list of keywords: the quoted
    keyword in its text, on SQLite and PostgreSQL alike; LIKE's wildcards escaped)."""
    quoted = '"' + reason.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + '"'
    return and_(jobs_t.c.state == int(JobState.PENDING_HELD),
                cast(jobs_t.c.state_reasons, Text).like(f"%{quoted}%", escape="\\"))


def owned_count_stmt(owner: str, not_held_for: str | None = None) -> Select[Any]:
    """Jobs of ``owner`` not yet completed (pending, held, processing, stopped), except
    those held for ``not_held_for``."""
    stmt = (select(func.count()).select_from(jobs_t)
            .where(owner_is(owner), jobs_t.c.state.in_(_ACTIVE)))
    return stmt if not_held_for is None else stmt.where(not_(held_for(not_held_for)))


def held_from_count_stmt(reason: str, address: str) -> Select[Any]:
    """Jobs held for ``reason`` that came from the network ``address``."""
    return (select(func.count()).select_from(jobs_t)
            .where(jobs_t.c.peer_address == address, held_for(reason)))


def active_count_stmt() -> Select[Any]:
    """Jobs not yet completed, whoever owns them, on every queue."""
    return select(func.count()).select_from(jobs_t).where(jobs_t.c.state.in_(_ACTIVE))


def queue_states(conn: Connection) -> dict[str, QueueStateRecord]:
    """Every stored queue state by queue name (queues without a row are not in it)."""
    rows = conn.execute(_QUEUE_STATES).mappings()
    return {r["name"]: queue_state_from_row(r) for r in rows}
