"""The event hub, the job feed from the shared store (two nodes on one database), and
what printer-state-reasons changes become."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from support.postgres import postgres_cluster  # noqa: F401

from ippproxy.db import make_engine, upgrade
from ippproxy.jobs.state import JobEvent
from ippproxy.jobs.store import JobStore
from ippproxy.services.actor import Access, Actor, Section, Via
from ippproxy.services.errors import Forbidden
from ippproxy.services.events import EventHub, EventKind, JobFeed
from ippproxy.services.printer_watch import printer_events

ADMIN = Actor.system("admin")
READER = Actor("r", Via.SESSION, rights=((Section.PRINTERS, Access.READ),))
FINANCE = Actor("f", Via.SESSION, rights=((Section.FINANCE, Access.WRITE),))


async def test_a_slow_subscriber_loses_the_oldest_events_and_is_told() -> None:
    hub = EventHub("n1", queue_size=3)
    async with hub.subscribe(READER) as slow, hub.subscribe(ADMIN) as fast:
        for i in range(5):
            hub.publish(EventKind.JOB_RECEIVED, queue="q", job_id=i + 1)
            if i == 1:
                batch, dropped = await fast.next_batch()
                assert [e.job_id for e in batch] == [1, 2] and dropped == 0
        batch, dropped = await slow.next_batch()
        assert [e.job_id for e in batch] == [3, 4, 5] and dropped == 2
        batch, _ = await fast.next_batch()
        assert [e.job_id for e in batch] == [3, 4, 5]
        assert hub.subscribers == 2
    assert hub.subscribers == 0 and not hub.has_subscribers.is_set()
    assert [e.job_id for e in hub.recent] == [1, 2, 3, 4, 5]


async def test_an_event_is_one_sse_record_made_once() -> None:
    hub = EventHub("n1")
    ev = hub.publish(EventKind.JOB_DENIED, queue="q", user="x\nevent: evil", message="no")
    lines = ev.wire.decode().split("\n")
    assert lines[:2] == [f"id: {ev.seq}", "event: job-denied"]
    assert lines[2].startswith("data: ") and lines[3:] == ["", ""]
    assert json.loads(lines[2][6:])["user"] == "x\nevent: evil"   # escaped by JSON


async def test_subscribing_needs_read_access_to_printers() -> None:
    with pytest.raises(Forbidden):
        async with EventHub("n1").subscribe(FINANCE):
            pass


async def test_closing_ends_every_stream() -> None:
    hub = EventHub("n1")
    async with hub.subscribe(ADMIN) as sub:
        waiter = asyncio.create_task(sub.next_batch())
        await asyncio.sleep(0)
        hub.close()
        assert await asyncio.wait_for(waiter, 1) == ([], 0)
        assert sub.closed


@pytest.fixture(params=["sqlite", "postgresql"])
async def two_nodes(request: pytest.FixtureRequest, tmp_path: Path
                    ) -> AsyncIterator[tuple[JobStore, JobStore]]:
    """Two nodes' job stores on one database (PostgreSQL: how several nodes are run)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'shared.db'}"
    else:
        cluster = request.getfixturevalue("postgres_cluster")
        url = cluster.create_database()
    engines = [make_engine(url), make_engine(url)]
    upgrade(engines[0])
    async with JobStore(engines[0], node="a") as a, JobStore(engines[1], node="b") as b:
        yield a, b
    for engine in engines:
        engine.dispose()
    if request.param == "postgresql":
        cluster.drop_database(url)


async def test_the_feed_streams_every_nodes_job_changes_once(
        two_nodes: tuple[JobStore, JobStore]) -> None:
    a, b = two_nodes
    hub = EventHub("a")
    feed = JobFeed(hub, a.reports, interval=0.05)
    async with hub.subscribe(ADMIN) as sub:
        task = asyncio.create_task(feed.run())
        try:
            mine = await a.create_job("q", owner="alice")
            feed.job_changed(mine.uuid)
            theirs = await b.create_job("q", owner="bob", hold_until="indefinite")
            await b.transition(theirs.uuid, JobEvent.RELEASE, hold_until=None)
            await a.transition(mine.uuid, JobEvent.START)
            await a.transition(mine.uuid, JobEvent.COMPLETE)
            seen: list[tuple[str | None, EventKind]] = []
            async with asyncio.timeout(5):
                while (("alice", EventKind.JOB_PRINTED) not in seen
                       or not any(user == "bob" for user, _ in seen)):
                    batch, _ = await sub.next_batch()
                    seen += [(e.user, e.kind) for e in batch]
            await asyncio.sleep(0.3)          # more polls: nothing is published twice
            batch = list(sub._queue)
        finally:
            task.cancel()
    assert ("alice", EventKind.JOB_RECEIVED) in seen
    assert ("alice", EventKind.JOB_PRINTED) in seen
    assert ("bob", EventKind.JOB_PENDING) in seen or ("bob", EventKind.JOB_HELD) in seen
    assert len(seen) == len(set(seen))
    assert not [e for e in batch if (e.user, e.kind) in seen]


async def test_the_feed_is_idle_without_subscribers(two_nodes: tuple[JobStore, JobStore]
                                                    ) -> None:
    a, _ = two_nodes
    hub = EventHub("a")
    feed = JobFeed(hub, a.reports, interval=0.01)
    task = asyncio.create_task(feed.run())
    await a.create_job("q", owner="alice")
    await asyncio.sleep(0.1)
    task.cancel()
    assert list(hub.recent) == []


@pytest.mark.parametrize("before, after, expected", [
    ((), ("offline-report",), [EventKind.PRINTER_OFFLINE]),
    (("offline-report",), (), [EventKind.PRINTER_ONLINE]),
    (("offline-report",), ("offline-report",), []),
    ((), ("media-empty-error", "toner-low-warning"), [EventKind.PRINTER_MEDIA_EMPTY]),
    (("media-empty-error",), ("media-empty-error",), []),
    ((), ("media-needed",), [EventKind.PRINTER_MEDIA_EMPTY]),
    ((), ("door-open-error",), [EventKind.PRINTER_ALERT]),
    (("door-open-error",), (), []),
])
def test_printer_reason_changes(before: tuple[str, ...], after: tuple[str, ...],
                                expected: list[EventKind]) -> None:
    got = printer_events(frozenset(before), frozenset(after))
    assert [k for k, _ in got] == expected


async def test_a_job_that_printed_between_two_looks_is_still_received_first(
        two_nodes: tuple[JobStore, JobStore]) -> None:
    a, _ = two_nodes
    hub = EventHub("a")
    feed = JobFeed(hub, a.reports, batch=2)       # several pages in one look
    async with hub.subscribe(ADMIN) as sub:
        jobs = [await a.create_job("q", owner=f"u{i}") for i in range(5)]
        for job in jobs[:3]:
            await a.transition(job.uuid, JobEvent.START)
            await a.transition(job.uuid, JobEvent.COMPLETE)
        assert await feed.poll() == 3 * 2 + 2
        assert feed.keys_read == 5                    # every page's keys (lookgap.py)
        assert await feed.poll() == 0                 # the overlap: nothing twice
        batch, _ = await sub.next_batch()
    kinds = {(e.user, e.kind) for e in batch}
    for i in range(3):
        assert {(f"u{i}", EventKind.JOB_RECEIVED), (f"u{i}", EventKind.JOB_PRINTED)} <= kinds
        received = next(k for k, e in enumerate(batch) if e.user == f"u{i}")
        assert batch[received].kind == EventKind.JOB_RECEIVED
    assert [(e.user, e.kind) for e in batch if e.user in ("u3", "u4")] == [
        ("u3", EventKind.JOB_RECEIVED), ("u4", EventKind.JOB_RECEIVED)]


async def test_what_happened_before_the_first_page_is_not_replayed(
        two_nodes: tuple[JobStore, JobStore]) -> None:
    a, _ = two_nodes
    hub = EventHub("a")
    feed = JobFeed(hub, a.reports, interval=0.05, min_gap=0.01)
    task = asyncio.create_task(feed.run())
    try:
        before = await a.create_job("q", owner="early")
        await asyncio.sleep(0.05)
        async with hub.subscribe(ADMIN) as sub:
            await asyncio.sleep(0.1)
            after = await a.create_job("q", owner="late")
            feed.job_changed(after.uuid)
            async with asyncio.timeout(5):
                batch, _ = await sub.next_batch()
            await a.transition(before.uuid, JobEvent.CANCEL)     # a change after: shown
            async with asyncio.timeout(5):
                more, _ = await sub.next_batch()
    finally:
        task.cancel()
    assert [(e.user, e.kind) for e in batch] == [("late", EventKind.JOB_RECEIVED)]
    assert [(e.user, e.kind) for e in more] == [("early", EventKind.JOB_CANCELED)]
