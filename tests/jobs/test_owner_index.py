"""A user's own jobs (the user web app, ``/api/v1/me/jobs``: ``JobQuery(owner=...)``,
compared as ``lower(owner)``) are found through the expression index ix_jobs_owner_lower
(migration 0012_user_app), not by reading every job (benchmarks/bench_user_pages.py: 90 ms to
3.7 ms at 20,000 jobs)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from support.postgres import db_url, postgres_cluster  # noqa: F401

from ippproxy.db import make_engine, upgrade
from ippproxy.jobs.search import JobQuery, count_stmt, search_stmt


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:  # noqa: F811
    eng = make_engine(db_url)
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
