"""What the admin dashboard and job list show: the summary, the charts' figures, job pages.

Read-only, from the job store's report queries (``JobStore.reports``, jobs/reports.py:
keyset pages, sums over a window from one index) and the event hub's own counters.
Jobs, printers and their charts need read access to printers; who prints most is about
users, so top users needs read access to users.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from ippproxy.db.base import utcnow
from ippproxy.jobs.reports import (
    WHICH,
    ColourShare,
    Cursor,
    DayPages,
    JobReports,
    JobSummary,
    UserPages,
    Which,
)
from ippproxy.jobs.state import JobState
from ippproxy.services.actor import Access, Actor, Section
from ippproxy.services.errors import Forbidden, Invalid

T = TypeVar("T")
MAX_PAGE = 200
MAX_DAYS = 366



@dataclass(frozen=True)
class Summary:
    """The dashboard's figures: jobs waiting now, and the last 24 hours."""

    pending: int
    held: int
    processing: int
    printed: int          # completed in the last 24 hours
    pages: int            # pages printed today (UTC): the pages chart's last day
    canceled: int
    aborted: int
    denied: int           # refused by a rule in the last 24 hours, on every node


@dataclass(frozen=True)
class JobPage:
    jobs: tuple[JobSummary, ...]
    next: str | None       # the cursor of the following page, None on the last


def _need(actor: Actor, section: Section) -> None:
    if not actor.may(section, Access.READ):
        raise Forbidden(f"this needs read access to {section}")


def _days(days: int) -> int:
    if not 1 <= days <= MAX_DAYS:
        raise Invalid("days", f"must be between 1 and {MAX_DAYS}")
    return days


def encode_cursor(job: JobSummary, which: Which) -> str:
    at = job.completed_at if which == "history" else job.created_at
    assert at is not None
    return f"{at.isoformat()}~{job.uuid}"


def decode_cursor(text: str) -> Cursor:
    at, sep, uuid = text.partition("~")
    try:
        when = dt.datetime.fromisoformat(at)
    except ValueError:
        raise Invalid("after", "not a cursor from a previous page") from None
    if not sep or when.tzinfo is None or not 0 < len(uuid) <= 36:
        raise Invalid("after", "not a cursor from a previous page")
    return Cursor(when, uuid)


class Reports:
    """``chart_ttl``: the charts' sums (days of history: hundreds of thousands of jobs
    with a big history) are reused for this many seconds; the summary and the job lists
    are always read fresh, and the live activity shows what happens meanwhile. The pages
    per day are the one source of the summary's pages too: the chart's days before today
    are reused, today is read fresh for both, so the two always agree. ``denied``: the
    jobs refused by a rule since a time, counted where every node records them (the
    audit log, services/denials.py)."""

    def __init__(self, jobs: JobReports,
                 denied: Callable[[dt.datetime], Awaitable[int]] | None = None,
                 clock: Callable[[], dt.datetime] = utcnow, chart_ttl: float = 60.0) -> None:
        self.jobs = jobs
        self.denied = denied
        self.clock = clock
        self.chart_ttl = chart_ttl
        self._charts: dict[tuple[str, int, int], tuple[float, Any]] = {}

    async def _chart(self, key: tuple[str, int, int], read: Callable[[], Awaitable[T]]) -> T:
        now = time.monotonic()
        hit = self._charts.get(key)
        if hit is not None and hit[0] > now:
            value: T = hit[1]
            return value
        fresh = await read()
        if len(self._charts) > 64:
            self._charts.clear()
        self._charts[key] = (now + self.chart_ttl, fresh)
        return fresh

    async def summary(self, actor: Actor) -> Summary:
        _need(actor, Section.PRINTERS)
        waiting = await self.jobs.state_counts()
        day_ago = self.clock() - dt.timedelta(hours=24)
        ended = await self.jobs.completed_since(day_ago)
        printed = ended.get(int(JobState.COMPLETED), (0, 0))[0]
        pages = sum(d.pages for d in await self._today())
        return Summary(
            pending=waiting.get(int(JobState.PENDING), 0),
            held=waiting.get(int(JobState.PENDING_HELD), 0),
            processing=waiting.get(int(JobState.PROCESSING), 0)
            + waiting.get(int(JobState.PROCESSING_STOPPED), 0),
            printed=printed, pages=pages,
            canceled=ended.get(int(JobState.CANCELED), (0, 0))[0],
            aborted=ended.get(int(JobState.ABORTED), (0, 0))[0],
            denied=await self.denied(day_ago) if self.denied is not None else 0)

    async def job_page(self, actor: Actor, which: str, *, after: str | None = None,
                       limit: int = 50, queue: str | None = None, owner: str | None = None
                       ) -> JobPage:
        _need(actor, Section.PRINTERS)
        if which not in WHICH:
            raise Invalid("which", f"must be one of {', '.join(WHICH)}")
        if not 1 <= limit <= MAX_PAGE:
            raise Invalid("limit", f"must be between 1 and {MAX_PAGE}")
        w: Which = which   # checked just above
        cursor = decode_cursor(after) if after else None
        rows = await self.jobs.job_page(w, limit=limit + 1, after=cursor, queue=queue,
                                        owner=owner)
        more = len(rows) > limit
        rows = rows[:limit]
        return JobPage(tuple(rows), encode_cursor(rows[-1], w) if more else None)

    async def daily_pages(self, actor: Actor, days: int = 14) -> list[DayPages]:
        _need(actor, Section.PRINTERS)
        since = self._since(_days(days))
        today = self._since(1)
        before = await self._chart(("daily", days, today.toordinal()),
                                   lambda: self._days_before(since, today))
        return before + await self._today()

    async def _days_before(self, since: dt.datetime, today: dt.datetime) -> list[DayPages]:
        return [d for d in await self.jobs.daily_pages(since) if d.day < today.date()]

    async def _today(self) -> list[DayPages]:
        """Today's pages per queue, always fresh (the summary's and the chart's)."""
        return await self.jobs.daily_pages(self._since(1))

    async def colour_share(self, actor: Actor, days: int = 30) -> ColourShare:
        _need(actor, Section.PRINTERS)
        since = self._since(_days(days))
        return await self._chart(("colour", days, 0), lambda: self.jobs.colour_share(since))

    async def top_users(self, actor: Actor, days: int = 30, limit: int = 10
                        ) -> list[UserPages]:
        _need(actor, Section.USERS)
        if not 1 <= limit <= 100:
            raise Invalid("limit", "must be between 1 and 100")
        since = self._since(_days(days))
        return await self._chart(("users", days, limit),
                                 lambda: self.jobs.top_users(since, limit))

    def _since(self, days: int) -> dt.datetime:
        today = self.clock().replace(hour=0, minute=0, second=0, microsecond=0)
        return today - dt.timedelta(days=days - 1)
