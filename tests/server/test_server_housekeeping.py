"""Housekeeping on a real store and spool: abandoned Create-Jobs are aborted, old history
is purged with its documents."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ippproxy.db import make_engine, upgrade
from ippproxy.jobs.records import NewDocument
from ippproxy.jobs.spool import Spool
from ippproxy.jobs.state import JobEvent, JobState
from ippproxy.jobs.store import JobStore
from ippproxy.pipeline import Intake
from ippproxy.server import housekeeping
from ippproxy.server.context import ServerContext

from .conftest import make_config


class NoCapabilities:
    async def printer_attributes(self, queue: object) -> None:
        return None

    async def identify(self, queue: object, actions: object, message: str) -> bool:
        return False

    def forget(self, queue: str) -> None:
        return None


async def test_abandoned_and_old_jobs(tmp_path: Path) -> None:
    cfg = make_config(tmp_path)
    engine = make_engine(cfg.storage.database)
    upgrade(engine)
    now = [dt.datetime.now(dt.UTC)]
    store = JobStore(engine, clock=lambda: now[0])
    spool = Spool(tmp_path / "spool", 1 << 20)
    try:
        ctx = ServerContext(cfg, store, spool, NoCapabilities(), Intake(store, spool))
        open_job = await store.create_job("default", owner="alice", closed=False)
        async with spool.writer() as w:
            await w.write(b"%PDF-1.4 done")
        done = await store.create_job("default", owner="alice", documents=(
            NewDocument(w.name, w.size, w.sha256, "application/pdf"),))
        await store.transition(done.uuid, JobEvent.CANCEL)
        now[0] += dt.timedelta(seconds=cfg.server.job_history_seconds + 120)
        await housekeeping.run_once(ctx)
        job = await store.get_by_uuid(open_job.uuid)
        assert job is not None and job.state == JobState.ABORTED
        assert await store.get_by_uuid(done.uuid) is None
        assert not spool.path(w.name).exists()
    finally:
        await store.close()
        engine.dispose()
