"""Several nodes on one job store: leases renewed, dead nodes' jobs taken over, and a job
whose document is not in this node's spool aborted instead of retried for ever."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest_asyncio
from sqlalchemy import Engine

from ippproxy.forwarding.worker import Forwarder
from ippproxy.jobs.records import JobRecord
from ippproxy.jobs.spool import Spool
from ippproxy.jobs.state import JobEvent, JobState
from ippproxy.jobs.store import JobStore

SHORT = dt.timedelta(seconds=0.3)


@pytest_asyncio.fixture
async def node_b(engine: Engine) -> AsyncIterator[JobStore]:
    async with JobStore(engine, node="b") as s:
        yield s


@pytest_asyncio.fixture
async def node_a(engine: Engine) -> AsyncIterator[JobStore]:
    async with JobStore(engine, node="a") as s:
        yield s


async def wait(store: JobStore, uuid: str, pred: Callable[[JobRecord], bool],
               timeout: float = 30.0) -> JobRecord:
    async with asyncio.timeout(timeout):
        while True:
            rec = await store.get_by_uuid(uuid)
            assert rec is not None
            if pred(rec):
                return rec
            await asyncio.sleep(0.02)


async def test_renew_only_own_active_claims(node_a: JobStore, node_b: JobStore) -> None:
    job = await node_a.create_job("q", owner="u")
    claimed = await node_a.claim_next_for_forwarding(lease=SHORT)
    assert claimed is not None and claimed.node == "a" and claimed.lease_until is not None
    assert await node_b.renew_leases([job.uuid], dt.timedelta(hours=1)) == 0
    assert await node_a.renew_leases([job.uuid], dt.timedelta(hours=1)) == 1
    rec = await node_a.get_by_uuid(job.uuid)
    assert rec is not None and rec.lease_until is not None
    assert rec.lease_until > claimed.lease_until + dt.timedelta(minutes=30)
    await node_a.transition(job.uuid, JobEvent.COMPLETE)
    assert await node_a.renew_leases([job.uuid], dt.timedelta(hours=1)) == 0


async def test_dead_nodes_job_is_taken_over_and_printed_once(
        virtual_printer: Any, node_a: JobStore, node_b: JobStore, spool: Spool,
        submit_job: Any, fast_config: Any) -> None:
    printer = await virtual_printer()
    job = await submit_job()
    # Node a claims the job and dies before sending it (no renewal, lease runs out).
    claimed = await node_a.claim_next_for_forwarding(lease=dt.timedelta(milliseconds=1))
    assert claimed is not None and claimed.uuid == job.uuid
    fwd = Forwarder(node_b, spool, fast_config(printer.uri), lease=SHORT)
    await fwd.start()
    try:
        done = await wait(node_b, job.uuid, lambda r: r.is_terminal)
    finally:
        await fwd.stop()
    assert done.state == JobState.COMPLETED, done.state_message
    assert len(printer.jobs) == 1


async def test_lease_renewed_while_the_printer_is_jammed(
        virtual_printer: Any, node_b: JobStore, spool: Spool, submit_job: Any,
        fast_config: Any) -> None:
    printer = await virtual_printer()
    await printer.set_state("jam")
    fwd = Forwarder(node_b, spool, fast_config(printer.uri), lease=SHORT)
    await fwd.start()
    try:
        job = await submit_job()
        stopped = await wait(node_b, job.uuid, lambda r: r.state == JobState.PROCESSING_STOPPED)
        await asyncio.sleep(4 * SHORT.total_seconds())  # several lease periods go by
        rec = await node_b.get_by_uuid(job.uuid)
        assert rec is not None and rec.state == JobState.PROCESSING_STOPPED
        assert rec.node == "b" and rec.forward_attempts == stopped.forward_attempts == 1
        assert rec.lease_until is not None and rec.lease_until > node_b.clock()
        await printer.set_state("clear")
        done = await wait(node_b, job.uuid, lambda r: r.is_terminal)
    finally:
        await fwd.stop()
    assert done.state == JobState.COMPLETED
    assert len(printer.jobs) == 1


async def test_document_not_in_this_nodes_spool_aborts(
        virtual_printer: Any, store: JobStore, spool: Spool, submit_job: Any,
        fast_config: Any) -> None:
    printer = await virtual_printer()
    job = await submit_job()
    os.unlink(spool.path(job.documents[0].spool_name))
    fwd = Forwarder(store, spool, fast_config(printer.uri))
    await fwd.start()
    try:
        done = await wait(store, job.uuid, lambda r: r.is_terminal)
    finally:
        await fwd.stop()
    assert done.state == JobState.ABORTED
    assert "document-access-error" in done.state_reasons
    assert done.state_message and "must share one spool" in done.state_message
    assert not done.forward_started and not printer.jobs
