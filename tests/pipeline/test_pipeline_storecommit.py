"""On SQLite a job's reservation is a unit of the job store's group commit (storecommit.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pipeline_docs as docs
from conftest import build, config, submission
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import OperationalError
from test_pipeline_intake import postings

from ippproxy.accounting import ChargeState
from ippproxy.accounting.groupcommit import group_commit
from ippproxy.filters.pool import AnalysisPool
from ippproxy.jobs.spool import Spool
from ippproxy.jobs.state import JobState
from ippproxy.jobs.store import JobStore


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
    """A lock or a concurrent key in the store's batch: the reservation runs again the
    ledger's own way (which retries and replays), and is made once."""
    p = build(config(), engine, store, spool, pool)
    metering = p.intake.metering
    assert metering is not None
    tried: list[str] = []

    async def locked(work: Callable[[Connection], Any]) -> Any:
        tried.append("writer")
        raise OperationalError("BEGIN IMMEDIATE", {}, Exception("database is locked"))

    metering.writer = locked
    job = (await p.intake.print_job(submission(docs.pdf_bytes([True])))).job
    assert tried == ["writer"] and job.state == JobState.PENDING
    assert [(r.amount, r.kind) for r in postings(engine, job.uuid)] == [(-55, "charge")]


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

