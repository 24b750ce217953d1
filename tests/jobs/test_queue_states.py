"""Queue states in the job store (migration 0005): Pause-Printer keeps a queue's jobs from
being claimed, in SQL, so that every node on one database sees it; on SQLite and on a
throwaway PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio
from sqlalchemy import Engine
from support.postgres import db_url, postgres_cluster  # noqa: F401

from ippproxy.db import make_engine, upgrade
from ippproxy.jobs.records import JobRecord, QueueStateRecord
from ippproxy.jobs.state import JobEvent
from ippproxy.jobs.store import JobStore

T0 = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:  # noqa: F811
    eng = make_engine(db_url)
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest_asyncio.fixture
async def store(engine: Engine) -> AsyncIterator[JobStore]:
    async with JobStore(engine, node="a") as s:
        yield s


async def _retrying(store: JobStore, queue: str, at: dt.datetime) -> JobRecord:
    """A job of ``queue`` that failed once and is retried at ``at``."""
    job = await store.create_job(queue, owner="u")
    await store.transition(job.uuid, JobEvent.START)
    return await store.transition(job.uuid, JobEvent.REQUEUE, next_attempt_at=at)


async def test_set_and_read_queue_states(store: JobStore) -> None:
    assert await store.queue_states() == {}
    now = [T0]
    store.clock = lambda: now[0]
    paused = await store.set_queue_state("a", paused=True, message="paused")
    assert paused == QueueStateRecord("a", paused=True, accepting=True, changed_at=T0,
                                      message="paused")
    # Pausing again changes nothing: not the time of the change, not the message.
    now[0] = T0 + dt.timedelta(minutes=1)
    assert await store.set_queue_state("a", paused=True, message="again") == paused
    # A queue without a row that is resumed or enabled keeps no row.
    assert await store.set_queue_state("b", paused=False, accepting=True) == \
        QueueStateRecord("b")
    now[0] = T0 + dt.timedelta(minutes=2)
    rejecting = await store.set_queue_state("a", accepting=False, message="not accepting")
    assert rejecting == QueueStateRecord("a", paused=True, accepting=False,
                                         changed_at=T0 + dt.timedelta(minutes=2),
                                         message="not accepting")
    assert await store.queue_states() == {"a": rejecting}
    now[0] = T0 + dt.timedelta(minutes=3)
    resumed = await store.set_queue_state("a", paused=False)
    assert resumed == QueueStateRecord("a", paused=False, accepting=False,
                                       changed_at=T0 + dt.timedelta(minutes=3), message="")
    assert await store.queue_states() == {"a": resumed}


async def test_claims_and_wake_ups_leave_paused_queues_out(store: JobStore) -> None:
    now = store.clock()
    retry_a = now + dt.timedelta(minutes=5)
    retry_b = now + dt.timedelta(minutes=7)
    job_a = await _retrying(store, "a", retry_a)
    job_b = await _retrying(store, "b", retry_b)
    later = now + dt.timedelta(hours=1)                # both due
    assert await store.next_attempt_time() == retry_a  # nothing paused
    await store.set_queue_state("a", paused=True)
    assert await store.next_attempt_time() == retry_b  # a's job is not waited for
    await store.set_queue_state("b", paused=True)
    assert await store.next_attempt_time() is None     # every queue paused: nothing due
    assert await store.claim_next_for_forwarding(later) is None
    assert await store.claim_next_for_forwarding(later, queues=["a", "b"]) is None
    await store.set_queue_state("a", paused=False)
    assert await store.next_attempt_time() == retry_a
    claimed = await store.claim_next_for_forwarding(later)
    assert claimed is not None and claimed.uuid == job_a.uuid
    assert await store.claim_next_for_forwarding(later) is None  # b is still paused
    await store.set_queue_state("b", paused=False)
    claimed = await store.claim_next_for_forwarding(later)
    assert claimed is not None and claimed.uuid == job_b.uuid


async def test_a_pause_is_seen_by_every_node_and_kept(engine: Engine, store: JobStore) -> None:
    later = store.clock() + dt.timedelta(hours=1)
    job = await store.create_job("q", owner="u")
    async with JobStore(engine, node="b") as other:
        await other.set_queue_state("q", paused=True, message="paused")
        assert await store.claim_next_for_forwarding(later) is None  # node a sees it
        assert await store.next_attempt_time() is None
    # A restart (a new store on the same database) finds the queue paused.
    async with JobStore(make_engine(str(engine.url.render_as_string(hide_password=False))),
                        node="a") as restarted:
        states = await restarted.queue_states()
        assert states["q"].paused and states["q"].message == "paused"
        assert await restarted.claim_next_for_forwarding(later) is None
        await restarted.set_queue_state("q", paused=False)
        claimed = await store.claim_next_for_forwarding(later)
        assert claimed is not None and claimed.uuid == job.uuid
