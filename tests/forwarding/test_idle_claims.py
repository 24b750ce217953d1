"""An idle forwarder takes no write lock: with every queue paused (or nothing due), each
wake-up's claim is answered by a read (JobStore.has_claimable) and opens no write
transaction, so it never queues behind the intake's commits; after Resume-Printer the
jobs still flow. Real SQLite job store, real spool, the virtual printer over a socket."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event
from support.jobs import wait_for_job

from ippproxy.forwarding.worker import Forwarder
from ippproxy.jobs.records import JobRecord, NewDocument
from ippproxy.jobs.spool import Spool
from ippproxy.jobs.state import JobState
from ippproxy.jobs.store import JobStore
from testprinters.documents import make_pdf


class CountingStore(JobStore):
    """A real job store that counts the forwarder's claim pre-checks (its wake-ups)."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self.checks = 0

    async def has_claimable(self, now: dt.datetime | None = None, *,
                            queues: Iterable[str] | None = None) -> bool:
        self.checks += 1
        return await super().has_claimable(now, queues=queues)


class WriteBegins:
    """Every BEGIN IMMEDIATE on the engine (SQLite's write transactions; readers begin
    DEFERRED: db/engine.py)."""

    def __init__(self, engine: Engine) -> None:
        self.count = 0
        event.listen(engine, "begin", self._begin)

    def _begin(self, conn: Any) -> None:
        if conn.get_execution_options().get("sqlite_begin", "IMMEDIATE") != "DEFERRED":
            self.count += 1


async def _job(store: JobStore, spool: Spool, pdf: Path) -> JobRecord:
    async with spool.writer() as w:
        await w.write(pdf.read_bytes())
    doc = NewDocument(spool_name=w.name, size=w.size, sha256=w.sha256,
                      format="application/pdf")
    return await store.create_job("q", owner="alice", name="paused.pdf",
                                  document_format="application/pdf", documents=[doc])


async def _until(predicate: Any, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


async def test_paused_queues_wake_ups_do_not_write_and_jobs_flow_after_resume(
        engine: Engine, spool: Spool, tmp_path: Path, virtual_printer: Any,
        fast_config: Any) -> None:
    printer = await virtual_printer()
    pdf = make_pdf(tmp_path / "one.pdf", 1)
    async with CountingStore(engine) as store:
        await store.set_queue_state("q", paused=True)
        jobs = [await _job(store, spool, pdf) for _ in range(2)]
        writes_before, begins = store.stats(), WriteBegins(engine)
        fwd = Forwarder(store, spool, fast_config(printer.uri))
        await fwd.start()
        try:
            # Woken again and again (as every Print-Job and poll tick does): each wake-up
            # asks for a claim, and finds none without writing.
            for _ in range(10):
                seen = store.checks
                fwd.job_changed("")
                await _until(lambda seen=seen: store.checks > seen)
            assert store.checks >= 10
            assert store.stats() == writes_before and begins.count == 0
            for job in jobs:
                rec = await store.get_by_uuid(job.uuid)
                assert rec is not None and rec.state == JobState.PENDING
            # Resume-Printer: the queue's jobs are claimed and printed, in order.
            await store.set_queue_state("q", paused=False)
            fwd.job_changed("")
            for job in jobs:
                done = await wait_for_job(store, job.uuid, lambda r: r.is_terminal, 30.0)
                assert done.state == JobState.COMPLETED, done.state_message
            assert store.stats() != writes_before and begins.count > 0
            assert len(printer.jobs) == 2
        finally:
            await fwd.stop()


