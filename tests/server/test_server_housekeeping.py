"""Housekeeping on a real store and spool: abandoned Create-Jobs are aborted, old history
is purged with its documents, unanswered account questions are canceled."""

from __future__ import annotations

import dataclasses
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


async def test_unanswered_account_questions_are_canceled(tmp_path: Path) -> None:
    """A job held account-info-needed past accounting.popup_timeout is canceled with that
    reason (pipeline/unanswered.py); other holds and younger questions are left alone, and
    nothing runs with accounting off."""
    base = make_config(tmp_path)
    cfg = dataclasses.replace(base, accounting=dataclasses.replace(
        base.accounting, enabled=True, popup_timeout=60.0))
    engine = make_engine(cfg.storage.database)
    upgrade(engine)
    now = [dt.datetime.now(dt.UTC)]
    store = JobStore(engine, clock=lambda: now[0])
    spool = Spool(tmp_path / "spool", 1 << 20)
    try:
        async def held(reason: str) -> str:
            job = await store.create_job("default", owner="alice", hold_until="indefinite",
                                         reasons=(reason,))
            assert job.state == JobState.PENDING_HELD
            return job.uuid

        old_question = await held("account-info-needed")
        old_limit = await held("account-limit-reached")
        old_rule = await held("job-hold-until-specified")
        off = ServerContext(base, store, spool, NoCapabilities(), Intake(store, spool))
        now[0] += dt.timedelta(seconds=61)
        await housekeeping.run_once(off)            # accounting off: nothing to do
        waiting = await store.get_by_uuid(old_question)
        assert waiting is not None and waiting.state == JobState.PENDING_HELD
        young_question = await held("account-info-needed")
        await housekeeping.run_once(ServerContext(cfg, store, spool, NoCapabilities(),
                                                  Intake(store, spool)))
        states = {u: await store.get_by_uuid(u) for u in
                  (old_question, old_limit, old_rule, young_question)}
        gone = states[old_question]
        assert gone is not None and gone.state == JobState.CANCELED
        assert gone.state_reasons == ("account-info-needed",)
        assert gone.state_message is not None and "nothing was charged" in gone.state_message
        assert all(j is not None and j.state == JobState.PENDING_HELD
                   for u, j in states.items() if u != old_question)
    finally:
        await store.close()
        engine.dispose()
