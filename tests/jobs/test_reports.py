"""The admin side's reads of the job store (jobs/reports.py), on SQLite and PostgreSQL:
keyset pages, recent changes, report sums, our counts as columns, and the index the sums
read (EXPLAIN)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from support.postgres import postgres_cluster  # noqa: F401

from ippproxy.db import make_engine, upgrade
from ippproxy.jobs import reports as R
from ippproxy.jobs.state import JobEvent, JobState
from ippproxy.jobs.store import JobStore

T0 = dt.datetime(2026, 11, 20, 23, 30, tzinfo=dt.UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'reports.db'}"
        return
    cluster = request.getfixturevalue("postgres_cluster")
    made = cluster.create_database()
    yield made
    cluster.drop_database(made)


@pytest.fixture
async def store(url: str) -> AsyncIterator[tuple[JobStore, Clock]]:
    engine = make_engine(url)
    upgrade(engine)
    clock = Clock()
    async with JobStore(engine, clock=clock) as s:
        yield s, clock
    engine.dispose()


def counts(imp: int, col: int | None) -> dict[str, Any]:
    attrs: dict[str, Any] = {"job-impressions": imp}
    if col is not None:
        attrs["job-impressions-col"] = col
    return {"attributes": attrs}


async def printed(s: JobStore, clock: Clock, at: dt.datetime, *, queue: str = "office",
                  owner: str = "alice", imp: int = 2, col: int | None = 0,
                  reported: int | None = None) -> str:
    clock.now = at - dt.timedelta(seconds=5)
    job = await s.create_job(queue, owner=owner, analysis=counts(imp, col))
    await s.transition(job.uuid, JobEvent.START)
    if reported is not None:
        await s.set_counts(job.uuid, impressions=reported)
    clock.now = at
    await s.transition(job.uuid, JobEvent.COMPLETE)
    return job.uuid


async def test_our_counts_are_columns(store: tuple[JobStore, Clock]) -> None:
    s, _ = store
    job = await s.create_job("office", owner="alice", analysis=counts(7, 3))
    assert (job.impressions, job.impressions_col) == (7, 3)
    stored = await s.get_by_uuid(job.uuid)
    assert stored is not None and (stored.impressions, stored.impressions_col) == (7, 3)
    bare = await s.create_job("office", owner="alice")
    assert (bare.impressions, bare.impressions_col) == (None, None)
    await s.set_analysis(bare.uuid, counts(4, None))      # Send-Document's analysis
    again = await s.get_by_uuid(bare.uuid)
    assert again is not None and (again.impressions, again.impressions_col) == (4, None)


async def test_sums_by_day_printer_colour_and_user(store: tuple[JobStore, Clock]) -> None:
    s, clock = store
    day1, day2 = T0, T0 + dt.timedelta(hours=1)        # 23:30 and 00:30 UTC: two days
    await printed(s, clock, day1, queue="office", owner="alice", imp=2, col=1)
    await printed(s, clock, day1, queue="lobby", owner="bob", imp=5, col=None)
    await printed(s, clock, day2, queue="office", owner="bob", imp=3, col=0, reported=4)
    clock.now = day2
    canceled = await s.create_job("office", owner="carol", analysis=counts(9, 9))
    await s.transition(canceled.uuid, JobEvent.CANCEL)
    since = T0 - dt.timedelta(days=1)
    rep = s.reports
    assert await rep.daily_pages(since) == [
        R.DayPages(dt.date(2026, 11, 20), "lobby", 5),
        R.DayPages(dt.date(2026, 11, 20), "office", 2),
        R.DayPages(dt.date(2026, 11, 21), "office", 4)]     # the printer's count wins
    assert await rep.colour_share(since) == R.ColourShare(colour=1, mono=1 + 3, unknown=5)
    assert await rep.top_users(since, 10) == [R.UserPages("bob", 2, 9),
                                               R.UserPages("alice", 1, 2)]
    assert await rep.top_users(since, 1) == [R.UserPages("bob", 2, 9)]
    ended = await rep.completed_since(since)
    assert ended[int(JobState.COMPLETED)] == (3, 11)
    assert ended[int(JobState.CANCELED)][0] == 1
    assert await rep.daily_pages(day2 + dt.timedelta(minutes=1)) == []


async def test_job_pages_follow_the_cursor(store: tuple[JobStore, Clock]) -> None:
    s, clock = store
    # Two jobs end at the same instant: the uuid breaks the tie, none is lost or doubled.
    ends = [T0, T0 + dt.timedelta(minutes=1), T0 + dt.timedelta(minutes=1),
            T0 + dt.timedelta(minutes=2), T0 + dt.timedelta(minutes=3)]
    made = {await printed(s, clock, at): at for at in ends}
    seen: list[R.JobSummary] = []
    after = None
    while True:
        page = await s.reports.job_page("history", limit=2, after=after)
        seen += page
        if len(page) < 2:
            break
        after = R.Cursor(page[-1].completed_at or T0, page[-1].uuid)
    assert sorted(j.uuid for j in seen) == sorted(made)
    keys = [(j.completed_at, j.uuid) for j in seen]
    assert keys == sorted(keys, reverse=True)
    clock.now = T0
    held = await s.create_job("office", owner="dave", hold_until="indefinite")
    waiting = await s.create_job("office", owner="erin")
    assert [j.uuid for j in await s.reports.job_page("held")] == [held.uuid]
    assert [j.uuid for j in await s.reports.job_page("active")] == [waiting.uuid]
    assert await s.reports.job_page("active", owner="nobody") == []
    assert await s.reports.job_page("history", queue="lobby") == []
    assert await s.reports.state_counts() == {int(JobState.PENDING): 1,
                                              int(JobState.PENDING_HELD): 1}


async def test_changes_since_sees_each_change_in_order(store: tuple[JobStore, Clock]) -> None:
    s, clock = store
    job = await s.create_job("office", owner="alice")
    clock.now = T0 + dt.timedelta(seconds=10)
    await s.transition(job.uuid, JobEvent.START)
    other = await s.create_job("office", owner="bob")
    rows = await s.reports.changes_since(T0 + dt.timedelta(seconds=1))
    assert [(r.uuid, r.state) for r in rows] == [(job.uuid, int(JobState.PROCESSING)),
                                                 (other.uuid, int(JobState.PENDING))]
    assert [r.uuid for r in await s.reports.changes_since(T0)] == [job.uuid, other.uuid]
    assert await s.reports.changes_since(T0 + dt.timedelta(seconds=11)) == []


async def test_the_sums_read_the_report_index(store: tuple[JobStore, Clock]) -> None:
    s, clock = store
    await printed(s, clock, T0)
    since = T0 - dt.timedelta(days=30)
    dialect = s.engine.dialect.name

    statements = {"daily": R.daily_pages_stmt(dialect, since),
                  "colour": R.colour_share_stmt(since), "users": R.top_users_stmt(since, 10)}
    deep = R.job_page_stmt("history", 50, R.Cursor(T0, "f" * 36), None, None)

    def plan(conn: Any) -> dict[str, str]:
        if dialect == "postgresql":     # a handful of rows: make the planner show its index
            conn.execute(text("SET LOCAL enable_seqscan = off"))
        prefix = "EXPLAIN QUERY PLAN " if dialect == "sqlite" else "EXPLAIN "
        out = {}
        for name, stmt in [*statements.items(), ("deep page", deep)]:
            compiled = stmt.compile(dialect=conn.dialect,
                                    compile_kwargs={"render_postcompile": True})
            params = compiled.construct_params()
            procs = compiled._bind_processors
            value = {k: procs[k](v) if k in procs else v for k, v in params.items()}
            args: Any = (tuple(value[k] for k in compiled.positiontup or ())
                         if compiled.positional else value)
            rows = conn.exec_driver_sql(prefix + str(compiled), args).all()
            out[name] = "\n".join(str(r[-1]) for r in rows)
        return out

    def planned() -> dict[str, str]:    # a transaction: SET LOCAL lasts until its end
        with s.engine.begin() as conn:
            return plan(conn)

    plans = await asyncio.to_thread(planned)
    # A page deep in the history walks the completion index from the cursor on: never a
    # sort of every finished job (the uuid only orders jobs that ended at the same time).
    assert "ix_jobs_completed_at" in plans.pop("deep page")
    for name, explained in plans.items():
        assert "ix_jobs_report" in explained, (name, explained)
        if dialect == "sqlite":
            assert "COVERING INDEX" in explained, (name, explained)   # never the rows


# Every index on the completion time holds ended jobs only (migrations 0021-0023): a new
# job would put an entry into each (into its owner's or queue's part of the pending range
# for three of them), and move it at each change of state.
_ENDED_ONLY = ("ix_jobs_report", "ix_jobs_owner_completed", "ix_jobs_completed_at",
               "ix_jobs_queue_completed")


async def test_the_completion_indexes_hold_ended_jobs_only(store: tuple[JobStore, Clock]) -> None:
    s, clock = store
    ended = [await printed(s, clock, T0, owner=f"user{i}") for i in range(3)]
    for i in range(5):
        await s.create_job("office", owner=f"waiting{i}", analysis=counts(1, 0))
    busy = await s.create_job("office", owner="carol", analysis=counts(1, 0))
    await s.transition(busy.uuid, JobEvent.START)     # processing: not ended either
    dialect = s.engine.dialect.name

    def entries() -> dict[str, int | str]:
        with s.engine.connect() as conn:
            if dialect == "sqlite":   # each index's own cells, counted on its leaf pages
                return {name: int(conn.execute(text(
                    "SELECT sum(ncell) FROM dbstat WHERE name = :name "
                    "AND pagetype = 'leaf'"), {"name": name}).scalar_one())
                    for name in _ENDED_ONLY}
            return {name: str(conn.execute(text(
                "SELECT pg_get_expr(i.indpred, i.indrelid) FROM pg_index i "
                "JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = :name"),
                {"name": name}).scalar_one()) for name in _ENDED_ONLY}

    found = await asyncio.to_thread(entries)
    assert found == dict.fromkeys(_ENDED_ONLY, len(ended) if dialect == "sqlite"
                                  else "(completed_at IS NOT NULL)")
    # The reports still see the ended jobs, and the job counts by state the others.
    top = await s.reports.top_users(T0 - dt.timedelta(days=1), 10)
    assert sorted(u.owner for u in top) == ["user0", "user1", "user2"]
    assert await s.reports.state_counts() == {int(JobState.PENDING): 5,
                                              int(JobState.PROCESSING): 1}
