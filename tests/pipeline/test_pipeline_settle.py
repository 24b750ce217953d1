"""Settlement and refunds (settle.py) on a real job store."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid

import pipeline_docs as docs
import pytest
from conftest import build, config, submission
from sqlalchemy import Engine
from test_pipeline_intake import postings

from ippproxy.accounting import ChargeState, JobCounts
from ippproxy.filters.pool import AnalysisPool
from ippproxy.jobs.spool import Spool
from ippproxy.jobs.state import JobEvent, JobState
from ippproxy.jobs.store import JobStore
from ippproxy.pipeline import Pipeline
from ippproxy.pipeline.settle import Settler


async def _reserved_job(p: Pipeline, store: JobStore, spool: Spool, colours: list[bool],
                        user: str = "dave") -> str:
    job = (await p.intake.print_job(submission(docs.pdf_bytes(colours), user=user))).job
    assert job.analysis is not None and p.accounting.get(job.uuid) is not None
    return job.uuid


async def test_cancel_before_printing_is_refunded(engine: Engine, store: JobStore,
                                                  spool: Spool, pool: AnalysisPool,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    p = build(config(), engine, store, spool, pool)
    job = await _reserved_job(p, store, spool, [True])
    assert await p.settler.settle_job(job) is None            # pending: nothing to do
    await store.transition(job, JobEvent.CANCEL)
    with caplog.at_level(logging.INFO, logger="ippproxy.pipeline.settle"):
        charge = await p.settler.settle_job(job)
    # the log says what came back, as the ledger does (not "refunded 0.00 EUR")
    assert [r.getMessage() for r in caplog.records] == [
        (f"job {job} canceled: refunded, charged 0.00 EUR of 0.55 EUR reserved, "
        "0.55 EUR given back (impressions 0)")]
    assert charge is not None and charge.state == ChargeState.REFUNDED
    rows = postings(engine, job)
    assert [(r.amount, r.balance_after, r.kind) for r in rows] == [(-55, 445, "charge"),
                                                                   (55, 500, "refund")]
    assert "automatic refund" in rows[1].reason
    again = await p.settler.settle_job(job)                   # duplicate event: no new row
    assert again is not None and again.replayed and len(postings(engine, job)) == 2
    rec = await store.get_by_uuid(job)
    assert rec is not None and rec.analysis is not None
    assert rec.analysis["attributes"]["ippproxy-cost-charged"] == "0.00 EUR"


async def test_completed_job_settles_with_printer_count(engine: Engine, store: JobStore,
                                                        spool: Spool, pool: AnalysisPool) -> None:
    cfg = config(accounting={"trust_printer_counts": "printer"})
    p = build(cfg, engine, store, spool, pool)
    job = await _reserved_job(p, store, spool, [False, False, False, False])   # 0.45
    await store.transition(job, JobEvent.START)
    await store.update_forwarding(job, forward_started=True, remote_job_id=7)
    await store.set_counts(job, impressions=2, sheets=2)      # the printer printed half
    await store.transition(job, JobEvent.COMPLETE)
    charge = await p.settler.settle_job(job)
    assert charge is not None and charge.state == ChargeState.SETTLED
    # fee 5 + 40 * 2/4 = 25
    assert [(r.amount, r.kind) for r in postings(engine, job)] == [(-45, "charge"),
                                                                   (20, "settle")]
    rec = await store.get_by_uuid(job)
    assert rec is not None and rec.analysis is not None
    assert rec.analysis["attributes"]["ippproxy-cost-charged"] == "0.25 EUR"


async def test_sweep_settles_missed_jobs_and_refunds_orphans(
        engine: Engine, store: JobStore, spool: Spool, pool: AnalysisPool) -> None:
    p = build(config(), engine, store, spool, pool)
    done = await _reserved_job(p, store, spool, [False])
    await store.transition(done, JobEvent.CANCEL)            # the notification was lost
    orphan = str(uuid.uuid4())                 # reserved, but its job was never stored
    p.accounting.reserve(orphan, username="dave", printer="colour", counts=JobCounts.simple(1))
    settler = Settler(p.accounting, store, orphan_lease=dt.timedelta(0))
    assert await settler.sweep() == 2
    assert [r.kind for r in postings(engine, done)] == ["charge", "refund"]
    assert [r.kind for r in postings(engine, orphan)] == ["charge", "refund"]
    assert await settler.sweep() == 0


async def test_sweep_reads_held_jobs_states_not_the_jobs(
        engine: Engine, store: JobStore, spool: Spool, pool: AnalysisPool,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Held jobs keep their charge reserved for long: a sweep reads the states of a page
    of them in one statement, and reads whole only the job it settles."""
    p = build(config(), engine, store, spool, pool)
    waiting = [await _reserved_job(p, store, spool, [False]) for _ in range(12)]
    done = await _reserved_job(p, store, spool, [False])
    await store.transition(done, JobEvent.CANCEL)            # the notification was lost
    read: list[str] = []
    pages: list[int] = []
    whole, states = store.get_by_uuid, store.states_of

    async def counted_get(uuid_: str) -> object:
        read.append(uuid_)
        return await whole(uuid_)

    async def counted_states(uuids: list[str]) -> object:
        pages.append(len(uuids))
        return await states(uuids)

    monkeypatch.setattr(store, "get_by_uuid", counted_get)
    monkeypatch.setattr(store, "states_of", counted_states)
    settler = Settler(p.accounting, store, orphan_lease=dt.timedelta(0))
    assert await settler.sweep() == 1
    assert pages == [13]
    assert set(read) <= {done}
    assert [r.kind for r in postings(engine, done)] == ["charge", "refund"]
    assert all([r.kind for r in postings(engine, w)] == ["charge"] for w in waiting)


async def test_settler_task_follows_notifications(engine: Engine, store: JobStore,
                                                  spool: Spool, pool: AnalysisPool) -> None:
    p = build(config(), engine, store, spool, pool)
    settler = Settler(p.accounting, store, interval=3600)
    await settler.start()
    try:
        job = await _reserved_job(p, store, spool, [True])
        await store.transition(job, JobEvent.CANCEL)
        settler.job_changed(job)
        async with asyncio.timeout(10):
            while (c := p.accounting.get(job)) is None or c.state != ChargeState.REFUNDED:
                await asyncio.sleep(0.02)
    finally:
        await settler.stop()


async def test_told_of_jobs_not_finished_the_settler_reads_none_whole(
        engine: Engine, store: JobStore, spool: Spool, pool: AnalysisPool,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Every change of every job is told to the settler; it reads the told jobs' states
    together and reads whole (and settles) only the finished ones."""
    p = build(config(), engine, store, spool, pool)
    settler = Settler(p.accounting, store, interval=3600)
    await settler.start()                      # its first sweep runs now, before any job
    try:
        waiting = [await _reserved_job(p, store, spool, [False]) for _ in range(8)]
        done = await _reserved_job(p, store, spool, [True])
        await store.transition(done, JobEvent.CANCEL)
        read: list[str] = []
        whole = store.get_by_uuid

        async def counted_get(uuid_: str) -> object:
            read.append(uuid_)
            return await whole(uuid_)

        monkeypatch.setattr(store, "get_by_uuid", counted_get)
        for job in (*waiting, done):
            settler.job_changed(job)
        async with asyncio.timeout(10):
            while (c := p.accounting.get(done)) is None or c.state != ChargeState.REFUNDED:
                await asyncio.sleep(0.02)
        assert read == [done]
        assert all(p.accounting.get(w).state == ChargeState.RESERVED for w in waiting)
    finally:
        await settler.stop()


async def test_jobs_told_one_by_one_are_read_together(
        engine: Engine, store: JobStore, spool: Spool, pool: AnalysisPool,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A busy intake tells the settler of each job it creates, one by one: their states
    are read at most once per ``min_gap``, not once a job."""
    p = build(config(), engine, store, spool, pool)
    settler = Settler(p.accounting, store, interval=3600, min_gap=0.1)
    await settler.start()
    try:
        jobs = [await _reserved_job(p, store, spool, [False], user=f"u{i % 4}") for i in range(40)]
        reads: list[int] = []
        states_of = store.states_of

        async def counted(uuids: list[str]) -> dict[str, JobState]:
            reads.append(len(uuids))
            return await states_of(uuids)

        monkeypatch.setattr(store, "states_of", counted)
        for job in jobs:                         # 40 jobs over about 0.4 s
            settler.job_changed(job)
            await asyncio.sleep(0.01)
        async with asyncio.timeout(10):
            while sum(reads) < len(jobs):
                await asyncio.sleep(0.02)
        assert sum(reads) == len(jobs)
        assert len(reads) <= 8, reads
    finally:
        await settler.stop()
