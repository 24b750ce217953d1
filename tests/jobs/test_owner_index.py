"""A user's own jobs (the user web app, ``/api/v1/me/jobs``: ``JobQuery(owner=...)``,
compared as ``lower(owner)``) are found through the expression index ix_jobs_owner_lower
(migration 0012_user_app), not by reading every job (benchmarks/bench_user_pages.py: 90 ms to
3.7 ms at 20,000 jobs)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, event, text
from support.postgres import db_url, postgres_cluster  # noqa: F401

from ippproxy.db import make_engine, upgrade
from ippproxy.jobs import queries, reports
from ippproxy.jobs.search import JobQuery, count_stmt, search_stmt
from ippproxy.jobs.state import JobEvent
from ippproxy.jobs.store import JobStore
from ippproxy.jobs.usage import Usage, usage

T0 = dt.datetime(2026, 12, 8, 9, 0, tzinfo=dt.UTC)
EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:  # noqa: F811
    eng = make_engine(db_url)
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    eng = make_engine(f"sqlite:///{tmp_path / 'jobs.db'}")
    upgrade(eng)
    yield eng
    eng.dispose()


def test_own_jobs_use_the_lower_owner_index(engine: Engine) -> None:
    query = JobQuery(owner="Alice")
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            for stmt in (search_stmt(query), count_stmt(query)):
                sql = str(stmt.compile(dialect=engine.dialect,
                                       compile_kwargs={"literal_binds": True}))
                plan = " ".join(str(r[-1]) for r in
                                conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))
                assert "ix_jobs_owner_lower" in plan, plan
        else:  # PostgreSQL's planner picks by its statistics: check the index itself
            (definition,) = conn.execute(text(
                "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_jobs_owner_lower'")).one()
            assert "lower((owner)::text), created_at" in definition, definition


# The owner's jobs that have not ended go through ix_jobs_owner_lower (models.owner_is);
# its history through ix_jobs_owner_completed, which holds ended jobs only (0022).
_LOWER = {
    "Get-Jobs my-jobs": queries.list_jobs_stmt(None, "not-completed", "Alice", None),
    "Get-Jobs my-jobs, all": queries.list_jobs_stmt(None, "all", "Alice", None),
    "active jobs counted": queries.owned_count_stmt("Alice"),
    "admin page, active": reports.job_page_stmt("active", 50, None, None, "Alice"),
    "admin page, held": reports.job_page_stmt("held", 50, None, None, "Alice"),
}
_COMPLETED = {"admin page, history": reports.job_page_stmt("history", 50, None, None, "Alice")}


def _plan(conn: Connection, sql: str, params: Any = ()) -> str:
    return " ".join(str(r[-1]) for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql,
                                                              params))


def test_an_owners_jobs_use_an_owner_index(engine: Engine) -> None:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            for expected, stmts in (("ix_jobs_owner_lower", _LOWER),
                                    ("ix_jobs_owner_completed", _COMPLETED)):
                for name, stmt in stmts.items():
                    sql = str(stmt.compile(dialect=engine.dialect,
                                           compile_kwargs={"literal_binds": True}))
                    assert expected in _plan(conn, sql), (name, _plan(conn, sql))
        else:
            (definition,) = conn.execute(text(
                "SELECT indexdef FROM pg_indexes "
                "WHERE indexname = 'ix_jobs_owner_completed'")).one()
            assert definition.endswith("(owner, completed_at) WHERE (completed_at IS NOT NULL)"), \
                definition


def test_the_pagometers_read_no_job_they_do_not_need(sqlite_engine: Engine) -> None:
    """jobs/usage.py: every statement it runs finds its jobs through an index (SQLite's
    plans; PostgreSQL's index definition is checked above)."""
    engine = sqlite_engine
    seen: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        seen.append((statement, params))

    since = {name: T0 for name in ("alice", "bob", "carol")}
    with engine.connect() as conn:
        event.listen(conn, "before_cursor_execute", record)
        usage(conn, since)
        event.remove(conn, "before_cursor_execute", record)
        plans = [_plan(conn, sql, params) for sql, params in seen]
    assert len(plans) == 2
    assert "ix_jobs_owner_completed" in plans[0], plans[0]
    assert all("SCAN jobs" not in p for p in plans), plans


async def test_owner_is_the_exact_name(engine: Engine) -> None:
    """owner_is adds lower(owner) beside the exact comparison: the same jobs as before, on
    either engine (names that differ in case are other owners, as they were)."""
    async with JobStore(engine) as store:
        ended = await store.create_job("office", owner="Alice")
        await store.transition(ended.uuid, JobEvent.START)
        await store.transition(ended.uuid, JobEvent.COMPLETE)
        mine = [await store.create_job("office", owner="Alice") for _ in range(2)]
        held = await store.create_job("office", owner="Alice", hold_until="indefinite")
        for other in ("alice", "ALICE", "Bob"):
            await store.create_job("office", owner=other, hold_until="indefinite")

        def read() -> tuple[list[str], list[str], int, list[str], dict[str, Usage]]:
            with engine.connect() as conn:
                active = [r.uuid for r in conn.execute(
                    queries.list_jobs_stmt(None, "not-completed", "Alice", None))]
                done = [r.uuid for r in conn.execute(
                    queries.list_jobs_stmt(None, "completed", "Alice", None))]
                count = conn.execute(queries.owned_count_stmt("Alice")).scalar_one()
                page = [r.uuid for r in conn.execute(
                    reports.job_page_stmt("active", 50, None, None, "Alice"))]
                return active, done, int(count), page, usage(conn, {"Alice": EPOCH, "Bob": EPOCH})

        active, done, count, page, used = await asyncio.to_thread(read)
    assert sorted(active) == sorted([*(j.uuid for j in mine), held.uuid])
    assert sorted(page) == sorted(j.uuid for j in mine)     # the admin's held jobs: a page apart
    assert done == [ended.uuid] and count == 3
    assert (used["Alice"].jobs, used["Bob"].jobs) == (1, 0)
