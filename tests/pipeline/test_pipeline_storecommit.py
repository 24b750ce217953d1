"""On SQLite a job's reservation is a unit of the job store's group commit (storecommit.py)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import pipeline_docs as docs
import pytest
from conftest import build, config, submission
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import OperationalError
from test_pipeline_intake import postings

from ippproxy.accounting import ChargeState, InvalidOperation
from ippproxy.accounting.groupcommit import group_commit
from ippproxy.filters.pool import AnalysisPool
from ippproxy.jobs.spool import Spool
from ippproxy.jobs.state import JobState
from ippproxy.jobs.store import JobStore
from ippproxy.pipeline.refusal import Refused


async def test_the_reservation_shares_the_job_stores_commit(
        engine: Engine, store: JobStore, spool: Spool, pool: AnalysisPool) -> None:
    """The ledger's own group commit runs no transaction for it (it did one a job: a
    thread hand-off, a commit and a sync of its own); the charge is there, once."""
    p = build(config(), engine, store, spool, pool)
    ledger = group_commit(engine)
    assert ledger is not None
    await p.intake.print_job(submission(docs.pdf_bytes([True])))  # dave created: the ledger's
    before = ledger.batches
    jobs = [(await p.intake.print_job(submission(docs.pdf_bytes([True])))).job
            for _ in range(3)]
    assert ledger.batches == before
    for job in jobs:
        assert job.state == JobState.PENDING
        assert [(r.amount, r.kind) for r in postings(engine, job.uuid)] == [(-55, "charge")]
        charge = p.accounting.get(job.uuid)
        assert charge is not None and charge.state == ChargeState.RESERVED


async def test_a_database_error_there_and_the_ledger_reserves_it_alone(
        engine: Engine, store: JobStore, spool: Spool, pool: AnalysisPool) -> None:
    """A lock or a concurrent key in the store's batch: the job is not stored with it,
    the reservation runs again the ledger's own way (which retries and replays), then
    the job is created; charged once."""
    p = build(config(), engine, store, spool, pool)
    tried: list[str] = []
    reservation = p.accounting.reservation

    def failing_once(*args: Any, **kwargs: Any) -> Callable[[Connection], Any]:
        unit = reservation(*args, **kwargs)

        def run(conn: Connection) -> Any:
            tried.append("batch" if not tried else "alone")
            if len(tried) == 1:
                raise OperationalError("INSERT INTO ledger", {}, Exception("database is locked"))
            return unit(conn)
        return run

    p.accounting.reservation = failing_once  # type: ignore[method-assign]
    job = (await p.intake.print_job(submission(docs.pdf_bytes([True])))).job
    assert tried == ["batch", "alone"] and job.state == JobState.PENDING
    assert [(r.amount, r.kind) for r in postings(engine, job.uuid)] == [(-55, "charge")]
    assert await asyncio.to_thread(_jobs, engine) == 1


async def test_credit_refused_there_is_still_a_payer_hold(
        engine: Engine, store: JobStore, spool: Spool, pool: AnalysisPool) -> None:
    """The store's batch rolls the refused unit back alone: the job is held for its
    payer, nothing is charged, and the other jobs of the batch are stored."""
    p = build(config(), engine, store, spool, pool)
    big = docs.pdf_bytes([True] * 12)          # 12 colour pages: more than dave's 5.00
    job = (await p.intake.print_job(submission(big))).job
    assert job.state == JobState.PENDING_HELD, job
    assert postings(engine, job.uuid) == []
    assert p.accounting.get(job.uuid) is None



async def test_the_job_is_created_without_waiting_for_the_reservations_sync(
        engine: Engine, store: JobStore, spool: Spool, pool: AnalysisPool) -> None:
    """The reservation is answered at its commit: the job's creation (whose answer waits
    for a sync, which covers both) does not wait for a sync of its own first. With the
    log's sync held up, the job is written all the same, and answered once it syncs."""
    p = build(config(), engine, store, spool, pool)
    await p.intake.print_job(submission(docs.pdf_bytes([True])))   # dave created
    wal_sync = store._writer._wal_sync
    assert wal_sync is not None
    go, real = threading.Event(), wal_sync.sync

    def held_up() -> None:
        assert go.wait(10)
        real()

    wal_sync.sync = held_up  # type: ignore[method-assign]
    try:
        task = asyncio.ensure_future(p.intake.print_job(submission(docs.pdf_bytes([True]))))
        for _ in range(500):
            if await asyncio.to_thread(_jobs, engine) == 2:
                break
            await asyncio.sleep(0.01)
        assert await asyncio.to_thread(_jobs, engine) == 2    # written, not yet answered
        assert not task.done()
    finally:
        go.set()
    job = (await asyncio.wait_for(task, 10)).job
    assert [(r.amount, r.kind) for r in postings(engine, job.uuid)] == [(-55, "charge")]


def _jobs(engine: Engine) -> int:
    with engine.connect() as c:
        return int(c.execute(text("SELECT count(*) FROM jobs")).scalar_one())


async def test_the_reservation_is_made_by_the_jobs_creation(
        engine: Engine, store: JobStore, spool: Spool, pool: AnalysisPool) -> None:
    """One writer op a Print-Job (the job's creation, its reservation first in the same
    transaction), not two (a unit of its own, then the creation)."""
    p = build(config(), engine, store, spool, pool)
    await p.intake.print_job(submission(docs.pdf_bytes([True])))   # dave created
    ops = store.stats().ops
    job = (await p.intake.print_job(submission(docs.pdf_bytes([True])))).job
    assert store.stats().ops - ops == 1
    assert [(r.amount, r.kind) for r in postings(engine, job.uuid)] == [(-55, "charge")]
    charge = p.accounting.get(job.uuid)
    assert charge is not None and charge.state == ChargeState.RESERVED


async def test_a_refusal_there_stores_no_job(
        engine: Engine, store: JobStore, spool: Spool, pool: AnalysisPool) -> None:
    """An accounting error that is no payer problem (a disabled user since the lookup)
    refuses the job: nothing is stored, nothing charged."""
    p = build(config(), engine, store, spool, pool)
    await p.intake.print_job(submission(docs.pdf_bytes([True])))   # dave created
    reservation = p.accounting.reservation

    def disabled(*args: Any, **kwargs: Any) -> Callable[[Connection], Any]:
        reservation(*args, **kwargs)

        def run(conn: Connection) -> Any:
            raise InvalidOperation("user 'dave' is disabled")
        return run

    p.accounting.reservation = disabled  # type: ignore[method-assign]
    with pytest.raises(Refused, match="disabled"):
        await p.intake.print_job(submission(docs.pdf_bytes([True])))
    assert await asyncio.to_thread(_jobs, engine) == 1
