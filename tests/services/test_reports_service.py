"""The reports service: rights, validation naming the field, cursors across pages."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ippproxy.db import make_engine, upgrade
from ippproxy.jobs.state import JobEvent
from ippproxy.jobs.store import JobStore
from ippproxy.services.actor import Access, Actor, Section, Via
from ippproxy.services.errors import Forbidden, Invalid
from ippproxy.services.reports import Reports, decode_cursor

ADMIN = Actor.system("admin")
PRINTERS_ONLY = Actor("p", Via.TOKEN, rights=((Section.PRINTERS, Access.READ),))
NOBODY = Actor("n", Via.SESSION)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[JobStore]:
    engine = make_engine(f"sqlite:///{tmp_path / 'r.db'}")
    upgrade(engine)
    async with JobStore(engine) as s:
        yield s


async def test_rights_per_report(store: JobStore) -> None:
    async def three(since: dt.datetime) -> int:
        return 3

    reports = Reports(store.reports, denied=three)
    with pytest.raises(Forbidden):
        await reports.summary(NOBODY)
    with pytest.raises(Forbidden):
        await reports.job_page(NOBODY, "active")
    with pytest.raises(Forbidden):
        await reports.top_users(PRINTERS_ONLY)      # about users: needs the users section
    assert (await reports.summary(PRINTERS_ONLY)).denied == 3
    assert await reports.top_users(ADMIN) == []


@pytest.mark.parametrize("call, field", [
    (lambda r: r.job_page(ADMIN, "all"), "which"),
    (lambda r: r.job_page(ADMIN, "active", limit=0), "limit"),
    (lambda r: r.job_page(ADMIN, "active", limit=10_000), "limit"),
    (lambda r: r.job_page(ADMIN, "history", after="2026-01-01T00:00:00"), "after"),
    (lambda r: r.job_page(ADMIN, "history", after="2026-01-01T00:00:00+00:00~" + "x" * 40),
     "after"),
    (lambda r: r.daily_pages(ADMIN, 0), "days"),
    (lambda r: r.colour_share(ADMIN, 400), "days"),
    (lambda r: r.top_users(ADMIN, 30, 0), "limit"),
])
async def test_bad_arguments_name_the_field(store: JobStore, call: object, field: str) -> None:
    with pytest.raises(Invalid) as e:
        await call(Reports(store.reports))  # type: ignore[operator]
    assert e.value.field == field


async def test_pages_chain_through_their_cursor(store: JobStore) -> None:
    made = []
    for i in range(7):
        job = await store.create_job("q", owner="alice", name=f"j{i}")
        await store.transition(job.uuid, JobEvent.CANCEL)
        made.append(job.uuid)
    reports = Reports(store.reports)
    seen: list[str] = []
    after = None
    while True:
        page = await reports.job_page(ADMIN, "history", after=after, limit=3)
        seen += [j.uuid for j in page.jobs]
        if page.next is None:
            break
        assert decode_cursor(page.next).uuid == page.jobs[-1].uuid
        after = page.next
    assert sorted(seen) == sorted(made) and len(seen) == 7


async def test_the_summary_counts_waiting_and_recent_jobs(store: JobStore) -> None:
    now = dt.datetime.now(dt.UTC)
    await store.create_job("q", owner="a")
    await store.create_job("q", owner="b", hold_until="indefinite")
    done = await store.create_job("q", owner="c", analysis={"attributes": {"job-impressions": 4}})
    await store.transition(done.uuid, JobEvent.START)
    await store.transition(done.uuid, JobEvent.COMPLETE)
    s = await Reports(store.reports, clock=lambda: now).summary(ADMIN)
    assert (s.pending, s.held, s.processing, s.printed, s.pages) == (1, 1, 0, 1, 4)
    later = await Reports(store.reports,
                          clock=lambda: now + dt.timedelta(days=2)).summary(ADMIN)
    assert (later.printed, later.pages) == (0, 0)


async def test_chart_sums_are_reused_for_their_ttl_and_today_agrees_with_the_summary(
        store: JobStore) -> None:
    """The days before today are reused for the ttl; today is read fresh for the chart
    and the summary alike (one source: they always agree)."""
    async def printed() -> None:
        job = await store.create_job("q", owner="a",
                                     analysis={"attributes": {"job-impressions": 2}})
        await store.transition(job.uuid, JobEvent.START)
        await store.transition(job.uuid, JobEvent.COMPLETE)

    tomorrow = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    await printed()                               # completed "yesterday" for these:
    cached = Reports(store.reports, clock=lambda: tomorrow)
    fresh = Reports(store.reports, chart_ttl=0, clock=lambda: tomorrow)
    assert [d.pages for d in await cached.daily_pages(ADMIN)] == [2]
    await printed()
    assert [d.pages for d in await cached.daily_pages(ADMIN)] == [2]     # within the ttl
    assert [d.pages for d in await fresh.daily_pages(ADMIN)] == [4]
    assert [d.pages for d in await cached.daily_pages(ADMIN, 7)] == [4]  # another window

    today = Reports(store.reports)                 # as of now: both jobs printed today
    chart = await today.daily_pages(ADMIN)
    assert sum(d.pages for d in chart) == (await today.summary(ADMIN)).pages == 4
    await printed()
    chart = await today.daily_pages(ADMIN)         # cached, and still in step
    assert sum(d.pages for d in chart) == (await today.summary(ADMIN)).pages == 6
