"""app.PausableStore: the job store as the forwarder sees it while queues are paused."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ippproxy.app import PausableStore
from ippproxy.config import QueueConfig
from ippproxy.db import make_engine, upgrade
from ippproxy.jobs.state import JobEvent
from ippproxy.jobs.store import JobStore
from ippproxy.server.context import QueueRuntime


async def test_nothing_is_due_while_every_queue_is_paused(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'jobs.db'}")
    upgrade(engine)
    queues = {n: QueueRuntime(QueueConfig(name=n)) for n in ("a", "b")}
    reads = 0
    async with JobStore(engine) as store:
        real_read = store.read

        async def counting_read(fn):  # type: ignore[no-untyped-def]
            nonlocal reads
            reads += 1
            return await real_read(fn)

        store.read = counting_read  # type: ignore[method-assign]
        retry_at = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
        job = await store.create_job("a", owner="u")
        await store.transition(job.uuid, JobEvent.START)
        await store.transition(job.uuid, JobEvent.REQUEUE, next_attempt_at=retry_at)
        paused = PausableStore(store, queues)

        assert await paused.next_attempt_time() == retry_at       # nothing paused
        queues["a"].paused = True
        assert await paused.next_attempt_time() == retry_at       # b is not paused
        queues["b"].paused = True
        reads = 0
        assert await paused.next_attempt_time() is None           # every queue paused:
        assert await paused.claim_next_for_forwarding() is None
        assert reads == 0                                         # ... without a read
        queues["a"].paused = False
        assert await paused.next_attempt_time() == retry_at
    engine.dispose()
