"""IPP subscriptions in the job store (jobs/subscriptions.py) on real SQLite and PostgreSQL
databases: numbering, dedup by origin (two nodes posting one change), leases, event life,
counts."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy import Engine
from support.postgres import db_url, postgres_cluster  # noqa: F401

from ippproxy.db import make_engine, upgrade
from ippproxy.jobs.store import JobStore
from ippproxy.jobs.subscriptions import EVENT_LIFE, MAX_EVENTS, Happening, SubscriptionStore

T0 = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:  # noqa: F811
    eng = make_engine(db_url)
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
async def subs(engine: Engine, clock: Clock) -> AsyncIterator[SubscriptionStore]:
    async with JobStore(engine, clock=clock) as store:
        yield store.subscriptions


def change(uuid: str, state: int, at: dt.datetime, event: str = "job-state-changed",
           queue: str = "q", job_id: int = 1) -> Happening:
    return Happening(event, queue, f"job {job_id}: {event}", f"{uuid} {state}", at, job_id,
                     state, ("none",))


async def test_events_are_numbered_per_subscription(subs: SubscriptionStore,
                                                    clock: Clock) -> None:
    a = await subs.create("q", "alice", ("job-state-changed",), 3600)
    b = await subs.create("q", "bob", ("job-completed",), 3600)
    assert b.id > a.id
    clock.advance(1)
    posted = await subs.post([change("u1", 5, clock.now),
                              change("u1", 9, clock.now, "job-completed"),
                              change("u2", 5, clock.now, job_id=2)])
    # a wants all three (job-state-changed implies job-completed); b only the completion
    assert posted == 4
    assert [(e.sequence, e.job_id, e.event) for e in await subs.events(a.id)] == [
        (1, 1, "job-state-changed"), (2, 1, "job-completed"), (3, 2, "job-state-changed")]
    assert [(e.sequence, e.event, e.job_state) for e in await subs.events(b.id)] == [
        (1, "job-completed", 9)]
    assert [e.sequence for e in await subs.events(a.id, 2)] == [2, 3]
    got = await subs.get(a.id)
    assert got is not None and got.sequence == 3
    assert (await subs.get(b.id)).sequence == 1  # type: ignore[union-attr]


async def test_one_change_posted_twice_is_one_event(subs: SubscriptionStore,
                                                    clock: Clock) -> None:
    """Two nodes turning the same job change into an event: stored once, numbered once."""
    s = await subs.create("q", "alice", ("job-state-changed",), 0)
    clock.advance(1)
    first = change("u1", 5, clock.now)
    assert await subs.post([first]) == 1
    assert await subs.post([first]) == 0
    # concurrently, as two nodes' feeds would
    again = change("u1", 9, clock.now, "job-completed")
    assert sorted(await asyncio.gather(*(subs.post([again]) for _ in range(4)))) == [0, 0, 0, 1]
    assert await subs.post([first, again, change("u2", 5, clock.now, job_id=2)]) == 1
    events = await subs.events(s.id)
    assert [(e.sequence, e.job_id, e.job_state) for e in events] == [
        (1, 1, 5), (2, 1, 9), (3, 2, 5)]
    assert (await subs.get(s.id)).sequence == 3  # type: ignore[union-attr]  # no gap


async def test_only_matching_subscriptions_get_an_event(subs: SubscriptionStore,
                                                        clock: Clock) -> None:
    other = await subs.create("other", "alice", ("job-state-changed",), 0)
    job7 = await subs.create("q", "alice", ("job-completed",), 0, job_id=7)
    printer = await subs.create("q", "alice", ("printer-state-changed",), 0)
    clock.advance(1)
    await subs.post([change("u1", 9, clock.now, "job-completed", job_id=1),
                     change("u7", 9, clock.now, "job-completed", job_id=7),
                     Happening("printer-stopped", "q", "q: printer-stopped", "p1", clock.now)])
    assert await subs.events(other.id) == []
    assert [e.job_id for e in await subs.events(job7.id)] == [7]
    assert [e.event for e in await subs.events(printer.id)] == ["printer-stopped"]
    # a change made before a subscription existed is not its event
    late = await subs.create("q", "alice", ("job-completed",), 0)
    await subs.post([change("u3", 9, clock.now - dt.timedelta(seconds=1), "job-completed")])
    assert await subs.events(late.id) == []


async def test_leases_run_out(subs: SubscriptionStore, clock: Clock) -> None:
    short = await subs.create("q", "alice", ("job-completed",), 60)
    forever = await subs.create("q", "alice", ("job-completed",), 0)
    assert await subs.live_since() == T0
    clock.advance(30)
    renewed = await subs.renew(short.id, 60)
    assert renewed is not None and renewed.renewed == clock.now
    clock.advance(61)
    assert await subs.get(short.id) is None            # read as gone before it is deleted
    assert await subs.renew(short.id, 60) is None
    assert [s.id for s in await subs.list("q")] == [forever.id]
    assert await subs.expire() == 1
    clock.advance(10 ** 8)
    assert await subs.get(forever.id) is not None      # lease 0: never runs out
    assert await subs.any_live()
    await subs.cancel(forever.id)
    assert not await subs.any_live() and await subs.live_since() is None


async def test_events_live_event_life_and_the_newest_are_kept(subs: SubscriptionStore,
                                                              clock: Clock) -> None:
    """ippget-event-life (RFC 3996 §5.2): an event older than EVENT_LIFE is gone."""
    s = await subs.create("q", "alice", ("job-state-changed",), 0)
    clock.advance(1)
    await subs.post([change("old", 5, clock.now)])
    clock.advance(EVENT_LIFE - 10)
    await subs.post([change("new", 5, clock.now, job_id=2)])
    clock.advance(20)
    assert [e.job_id for e in await subs.events(s.id)] == [2]
    await subs.expire()
    clock.now -= dt.timedelta(seconds=EVENT_LIFE)     # the old one was deleted, not hidden
    assert [e.job_id for e in await subs.events(s.id)] == [2]
    clock.advance(EVENT_LIFE)
    await subs.post([change(f"u{i}", 5, clock.now, job_id=10 + i)
                     for i in range(MAX_EVENTS + 5)])
    events = await subs.events(s.id)
    assert len(events) == MAX_EVENTS and events[-1].sequence == 2 + MAX_EVENTS + 5


async def test_owned_by_counts_live_subscriptions_on_every_queue(
        subs: SubscriptionStore, clock: Clock) -> None:
    await subs.create("q", "alice", ("job-completed",), 10)
    await subs.create("other", "alice", ("job-completed",), 0)
    await subs.create("q", "bob", ("job-completed",), 0)
    assert await subs.owned_by("alice") == 2 and await subs.owned_by("bob") == 1
    clock.advance(11)
    assert await subs.owned_by("alice") == 1
    assert await subs.owned_by("carol") == 0


async def test_two_nodes_posting_the_same_changes_at_once(engine: Engine, db_url: str,  # noqa: F811
                                                          clock: Clock) -> None:
    """Two job stores (two nodes' engines, writers and feeds) post one batch of changes
    at the same moment, several times: each change is one event, numbered without gaps."""
    other = make_engine(db_url)
    try:
        async with JobStore(engine, clock=clock) as a, JobStore(other, clock=clock) as b:
            subs = [await a.subscriptions.create("q", "alice", ("job-state-changed",), 0)
                    for _ in range(3)]
            clock.advance(1)
            batch = [change(f"u{i}", state, clock.now, job_id=i)
                     for i in range(20) for state in (5, 9)]
            for _ in range(3):
                await asyncio.gather(a.subscriptions.post(batch), b.subscriptions.post(batch),
                                     a.subscriptions.post(batch[::-1]))
            for s in subs:
                events = await b.subscriptions.events(s.id)
                assert [e.sequence for e in events] == list(range(1, 41))
                assert len({(e.job_id, e.job_state) for e in events}) == 40
                assert (await a.subscriptions.get(s.id)).sequence == 40  # type: ignore[union-attr]
    finally:
        other.dispose()
