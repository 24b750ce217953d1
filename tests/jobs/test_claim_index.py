"""The forwarder's claim walks the index ix_jobs_claim instead of sorting every pending job
(migration 0004): a backlog of thousands of jobs must not make each claim, and the
writer's lock it holds, cost milliseconds."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, delete, insert, text
from support.postgres import db_url, postgres_cluster  # noqa: F401

from ippproxy.db import make_engine, upgrade
from ippproxy.jobs import queries, writes
from ippproxy.jobs.models import jobs_t, queue_states_t, queues_t
from ippproxy.jobs.state import JobState

T0 = dt.datetime(2026, 11, 22, 10, 0, tzinfo=dt.UTC)


def _row(queue: str, job_id: int, **over: Any) -> dict[str, Any]:
    row: dict[str, Any] = {c.key: None for c in jobs_t.columns}
    row.update(uuid=str(uuid.uuid4()), queue=queue, job_id=job_id, state=int(JobState.PENDING),
               state_reasons=["none"], owner="alice", attributes=b"", priority=50, closed=True,
               forward_attempts=0, forward_started=False,
               created_at=T0 + dt.timedelta(seconds=job_id), updated_at=T0)
    row.update(over)
    return row


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:  # noqa: F811
    """A migrated job store on SQLite and on a throwaway PostgreSQL, with a backlog."""
    url = db_url
    eng = make_engine(url)
    upgrade(eng)
    with eng.begin() as conn:
        conn.execute(insert(queues_t), [{"name": q, "next_job_id": 3001} for q in ("a", "b")])
        # a backlog: 3,000 pending jobs; the oldest ones are not due yet or still open
        rows = [_row("a", n) for n in range(1, 3001)]
        for r in rows[:50]:
            r["next_attempt_at"] = T0 + dt.timedelta(hours=1)
        for r in rows[50:60]:
            r["closed"] = False
        rows[2000]["priority"] = 90   # a later job with a higher priority goes first
        rows.append(_row("b", 1, priority=100))  # another queue's job
        conn.execute(insert(jobs_t), rows)
    yield eng
    eng.dispose()


def test_claim_order_with_a_backlog(engine: Engine) -> None:
    now = T0 + dt.timedelta(minutes=5)
    with engine.begin() as conn:
        row = conn.execute(writes.claim_stmt(now, ("a",))).mappings().one()
        assert (row["queue"], row["job_id"]) == ("a", 2001)
        row = conn.execute(writes.claim_stmt(now, None)).mappings().one()
        assert (row["queue"], row["job_id"]) == ("b", 1)
        row = conn.execute(writes.claim_stmt(now, ("a",)).where(jobs_t.c.priority == 50)
                           ).mappings().one()
        assert row["job_id"] == 61  # not due (1-50) and still open (51-60) are skipped


def test_claim_walks_the_index_without_sorting(engine: Engine) -> None:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            sql = str(writes.claim_stmt(T0, ("a", "b")).compile(
                dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
            plan = " ".join(str(r[-1]) for r in
                            conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))
            assert "ix_jobs_claim" in plan and "TEMP B-TREE" not in plan, plan
        else:  # PostgreSQL's planner picks by its statistics: check the index itself
            (definition,) = conn.execute(text(
                "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_jobs_claim'")).one()
            assert "(state, priority DESC, created_at, job_id, queue, closed, " \
                "next_attempt_at)" in definition, definition



def test_the_read_only_precheck_agrees_with_the_claim(engine: Engine) -> None:
    """``any_claimable`` (JobStore.has_claimable, no write lock) is true exactly when the
    claim finds a job: due or not, open or closed, by queue, paused or not."""
    with engine.begin() as conn:
        # Queue c: one job not due before T0 + 1 h, one still open.
        conn.execute(insert(queues_t), [{"name": "c", "next_job_id": 3}])
        conn.execute(insert(jobs_t), [_row("c", 1, next_attempt_at=T0 + dt.timedelta(hours=1)),
                                      _row("c", 2, closed=False)])
    later = T0 + dt.timedelta(hours=2)
    cases = [(T0, ("a",)), (T0, ("a", "b")), (T0, None), (T0, ("c",)), (later, ("c",)),
             (T0, ("b", "c")), (T0, ())]
    answers = []
    for paused in ((), ("a",), ("a", "b"), ("a", "b", "c")):
        with engine.begin() as conn:
            conn.execute(delete(queue_states_t))
            if paused:
                conn.execute(insert(queue_states_t),
                             [{"name": q, "paused": True, "accepting": True, "changed_at": T0,
                               "message": ""} for q in paused])
            for due, queues in cases:
                claim = conn.execute(writes.claim_stmt(due, queues)).first() is not None
                found = queries.any_claimable(conn, due, queues)
                assert found is claim, (paused, due, queues)
                answers.append(found)
    assert True in answers and False in answers
    if engine.dialect.name == "sqlite":  # PostgreSQL's planner picks by its statistics
        with engine.connect() as conn:
            sql = str(queries.claimable_stmt(T0, ("a", "b")).compile(
                dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
            plan = " ".join(str(r[-1]) for r in
                            conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql))
            assert "ix_jobs_claim" in plan and "TEMP B-TREE" not in plan, plan
