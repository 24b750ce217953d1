"""Read queries for the admin side: job lists a page at a time, the changes the live
events poll for, and the sums behind the dashboard's charts (portable SQLAlchemy Core).

Everything here reads through ``JobStore.read`` (a read-only snapshot in a reader thread)
and is bounded: lists are keyset-paged (no OFFSET: a page deep in a million jobs costs
what the first one does), sums cover a window of completion times and read the
``ix_jobs_report`` index alone. A job's pages are what the printer reported
(``impressions_completed``, RFC 8011 §5.3.18 job-impressions-completed), else our own
count at intake (``impressions``, PWG 5100.7 job-impressions).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from sqlalchemy import ColumnElement, Connection, Date, Select, cast, func, or_, select

from ippproxy.jobs.models import jobs_t, owner_is
from ippproxy.jobs.state import NOT_COMPLETED, JobState
from ippproxy.jobs.usage import Usage, usage

T = TypeVar("T")
Reader = Callable[[Callable[[Connection], T]], Awaitable[T]]
Which = Literal["active", "held", "history"]
WHICH: tuple[Which, ...] = ("active", "held", "history")

_J = jobs_t.c
_ACTIVE = [int(JobState.PENDING), int(JobState.PROCESSING), int(JobState.PROCESSING_STOPPED)]
_PAGES = func.coalesce(_J.impressions_completed, _J.impressions, 0)


@dataclass(frozen=True)
class JobSummary:
    """One row of the admin job list, or one change seen by the live events."""

    uuid: str
    queue: str
    job_id: int
    state: int
    owner: str
    name: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    completed_at: dt.datetime | None
    pages: int | None
    pages_col: int | None
    reasons: tuple[str, ...]
    message: str | None
    node: str | None
    processing_at: dt.datetime | None = None     # when it first went processing (sent)


_SUMMARY_COLS = (_J.uuid, _J.queue, _J.job_id, _J.state, _J.owner, _J.name, _J.created_at,
                 _J.updated_at, _J.completed_at, _J.impressions_completed, _J.impressions,
                 _J.impressions_col, _J.state_reasons, _J.state_message, _J.node,
                 _J.processing_at)


def _summary(r: Any) -> JobSummary:
    pages = r.impressions_completed if r.impressions_completed is not None else r.impressions
    return JobSummary(r.uuid, r.queue, r.job_id, r.state, r.owner, r.name, r.created_at,
                      r.updated_at, r.completed_at, pages, r.impressions_col,
                      tuple(r.state_reasons or ()), r.state_message, r.node, r.processing_at)


@dataclass(frozen=True)
class Cursor:
    """Where the next page starts: the last row's sort key (keyset paging)."""

    at: dt.datetime
    uuid: str


@dataclass(frozen=True)
class DayPages:
    day: dt.date
    queue: str
    pages: int


@dataclass(frozen=True)
class UserPages:
    owner: str
    jobs: int
    pages: int


@dataclass(frozen=True)
class ColourShare:
    """Impressions of completed jobs: with colour, without, and of unknown colour."""

    colour: int
    mono: int
    unknown: int


def _day(dialect: str) -> ColumnElement[Any]:
    if dialect == "postgresql":    # the calendar day in UTC, not the session's
        return cast(func.timezone("UTC", _J.completed_at), Date)
    return func.date(_J.completed_at)


def _as_date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def job_page(conn: Connection, which: Which, limit: int, after: Cursor | None,
             queue: str | None, owner: str | None) -> list[JobSummary]:
    """Active and held jobs oldest first (the order they wait in), history newest
    completed first; ``after`` is the previous page's last row."""
    stmt = job_page_stmt(which, limit, after, queue, owner)
    return [_summary(r) for r in conn.execute(stmt)]


def job_page_stmt(which: Which, limit: int, after: Cursor | None, queue: str | None,
                  owner: str | None) -> Select[Any]:
    stmt = select(*_SUMMARY_COLS)
    if queue is not None:
        stmt = stmt.where(_J.queue == queue)
    if owner is not None:   # the history: ix_jobs_owner_completed; the others: owner_is
        stmt = stmt.where(_J.owner == owner if which == "history" else owner_is(owner))
    if which == "history":
        # completed_at is set exactly when a job ends (writes.transition, recovery): the
        # completion index alone finds the history, newest first, from the cursor on.
        key = _J.completed_at
        stmt = stmt.where(key.is_not(None))
        if after is not None:
            # The bound alone first: the planner walks the index from it (a bare OR
            # made SQLite sort every finished job).
            stmt = stmt.where(key <= after.at,
                              or_(key < after.at, _J.uuid < after.uuid))
        stmt = stmt.order_by(key.desc(), _J.uuid.desc())
    else:
        key = _J.created_at
        states = _ACTIVE if which == "active" else [int(JobState.PENDING_HELD)]
        stmt = stmt.where(_J.state.in_(states))
        if after is not None:
            stmt = stmt.where(key >= after.at, or_(key > after.at, _J.uuid > after.uuid))
        stmt = stmt.order_by(key, _J.uuid)
    return stmt.limit(limit)


def changes_since(conn: Connection, since: dt.datetime, limit: int,
                  after: Cursor | None = None) -> list[JobSummary]:
    """Jobs whose row changed at or after ``since``, oldest change first (one row per job,
    in its present state); ``after``: the previous page's last row."""
    stmt = select(*_SUMMARY_COLS).where(_J.updated_at >= since)
    if after is not None:
        stmt = stmt.where(_J.updated_at >= after.at,
                          or_(_J.updated_at > after.at, _J.uuid > after.uuid))
    stmt = stmt.order_by(_J.updated_at, _J.uuid).limit(limit)
    return [_summary(r) for r in conn.execute(stmt)]


@dataclass(frozen=True)
class ChangeKey:
    """Which job changed, when, to which state: what a poll of recent changes reads first
    (from ``ix_jobs_updated_at`` alone) before it loads the jobs it has not seen yet."""

    updated_at: dt.datetime
    uuid: str
    state: int


def change_keys(conn: Connection, since: dt.datetime, limit: int,
                after: Cursor | None = None) -> list[ChangeKey]:
    stmt = select(_J.updated_at, _J.uuid, _J.state).where(_J.updated_at >= since)
    if after is not None:
        stmt = stmt.where(_J.updated_at >= after.at,
                          or_(_J.updated_at > after.at, _J.uuid > after.uuid))
    stmt = stmt.order_by(_J.updated_at, _J.uuid).limit(limit)
    return [ChangeKey(at, uuid, int(state)) for at, uuid, state in conn.execute(stmt)]


def summaries(conn: Connection, uuids: list[str]) -> dict[str, JobSummary]:
    rows = conn.execute(select(*_SUMMARY_COLS).where(_J.uuid.in_(uuids)))
    return {r.uuid: _summary(r) for r in rows}


def state_counts(conn: Connection) -> dict[int, int]:
    """How many jobs wait or print, by job-state (terminal ones are not counted)."""
    states = [int(s) for s in NOT_COMPLETED]
    stmt = (select(_J.state, func.count()).where(_J.state.in_(states)).group_by(_J.state))
    return {int(s): int(n) for s, n in conn.execute(stmt)}


def completed_since(conn: Connection, since: dt.datetime) -> dict[int, tuple[int, int]]:
    """Jobs ended since ``since`` by terminal state: (jobs, pages)."""
    stmt = (select(_J.state, func.count(), func.sum(_PAGES))
            .where(_J.completed_at >= since).group_by(_J.state))
    return {int(s): (int(n), int(p or 0)) for s, n, p in conn.execute(stmt)}


def daily_pages_stmt(dialect: str, since: dt.datetime) -> Select[Any]:
    day = _day(dialect).label("day")
    return (select(day, _J.queue, func.sum(_PAGES))
            .where(_J.completed_at >= since, _J.state == int(JobState.COMPLETED))
            .group_by(day, _J.queue).order_by(day, _J.queue))


def daily_pages(conn: Connection, since: dt.datetime) -> list[DayPages]:
    stmt = daily_pages_stmt(conn.dialect.name, since)
    return [DayPages(_as_date(d), q, int(p or 0)) for d, q, p in conn.execute(stmt)]


def colour_share_stmt(since: dt.datetime) -> Select[Any]:
    known = _J.impressions_col.is_not(None)
    return select(
        func.sum(func.coalesce(_J.impressions_col, 0)),
        func.sum(func.coalesce(_J.impressions, 0) - func.coalesce(_J.impressions_col, 0))
        .filter(known),
        func.sum(_PAGES).filter(_J.impressions_col.is_(None)),
    ).where(_J.completed_at >= since, _J.state == int(JobState.COMPLETED))


def colour_share(conn: Connection, since: dt.datetime) -> ColourShare:
    col, mono, unknown = conn.execute(colour_share_stmt(since)).one()
    return ColourShare(int(col or 0), int(mono or 0), int(unknown or 0))


def top_users_stmt(since: dt.datetime, limit: int) -> Select[Any]:
    pages = func.sum(_PAGES).label("pages")
    return (select(_J.owner, func.count(), pages)
            .where(_J.completed_at >= since, _J.state == int(JobState.COMPLETED))
            .group_by(_J.owner).order_by(pages.desc(), _J.owner).limit(limit))


def top_users(conn: Connection, since: dt.datetime, limit: int) -> list[UserPages]:
    stmt = top_users_stmt(since, limit)
    return [UserPages(o, int(n), int(p or 0)) for o, n, p in conn.execute(stmt)]


class JobReports:
    """The admin side's reads of the job store (``JobStore.reports``)."""

    def __init__(self, read: Reader[Any]) -> None:
        self._read = read

    async def job_page(self, which: Which, *, limit: int = 50, after: Cursor | None = None,
                       queue: str | None = None, owner: str | None = None
                       ) -> list[JobSummary]:
        return list(await self._read(lambda c: job_page(c, which, limit, after, queue, owner)))

    async def changes_since(self, since: dt.datetime, limit: int = 500,
                            after: Cursor | None = None) -> list[JobSummary]:
        return list(await self._read(lambda c: changes_since(c, since, limit, after)))

    async def change_keys(self, since: dt.datetime, limit: int = 1000,
                          after: Cursor | None = None) -> list[ChangeKey]:
        return list(await self._read(lambda c: change_keys(c, since, limit, after)))

    async def summaries(self, uuids: list[str]) -> dict[str, JobSummary]:
        return dict(await self._read(lambda c: summaries(c, uuids)))

    async def state_counts(self) -> dict[int, int]:
        return dict(await self._read(state_counts))

    async def completed_since(self, since: dt.datetime) -> dict[int, tuple[int, int]]:
        return dict(await self._read(lambda c: completed_since(c, since)))

    async def daily_pages(self, since: dt.datetime) -> list[DayPages]:
        return list(await self._read(lambda c: daily_pages(c, since)))

    async def colour_share(self, since: dt.datetime) -> ColourShare:
        share: ColourShare = await self._read(lambda c: colour_share(c, since))
        return share

    async def top_users(self, since: dt.datetime, limit: int = 10) -> list[UserPages]:
        return list(await self._read(lambda c: top_users(c, since, limit)))

    async def usage(self, since: dict[str, dt.datetime]) -> dict[str, Usage]:
        """Pagometers of a page of users (usage.py): owner -> start of their period."""
        return dict(await self._read(lambda c: usage(c, since)))
