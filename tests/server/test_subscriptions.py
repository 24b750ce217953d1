"""ippget subscriptions (RFC 3995, RFC 3996) over real IPP, kept in the database: a job the
forwarder completes is a job-completed event, and two servers (nodes) on one database give
a client the same events with the same numbers, whichever it subscribed and asks through."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from pathlib import Path
from typing import Any

import aiohttp

from ippproxy.config import QueueConfig
from ippproxy.db import make_engine, upgrade
from ippproxy.ipp import Group, Message, Tag
from ippproxy.ipp import Operation as Op
from ippproxy.jobs.state import JobEvent
from ippproxy.jobs.store import JobStore
from ippproxy.server.subscriptions import Subscriptions

from .client import Ipp, a, status, value
from .conftest import free_port, make_config
from .test_server_flow import wait_state
from .test_server_ops import print_job
from .test_server_pause import Server

COMPLETED = 9
Seen = list[tuple[int, str, int | None]]      # (notify-sequence-number, event, job-id)


async def subscribe(ipp: Ipp, *events: str) -> int:
    sub = Group(Tag.SUBSCRIPTION_ATTRIBUTES, (
        a("notify-pull-method", Tag.KEYWORD, "ippget"),
        *((a("notify-events", Tag.KEYWORD, *events),) if events else ())))
    m = await ipp.call(Op.CREATE_PRINTER_SUBSCRIPTIONS, groups=(sub,))
    assert status(m) == "successful-ok"
    sid = value(m, Tag.SUBSCRIPTION_ATTRIBUTES, "notify-subscription-id")
    assert isinstance(sid, int)
    return sid


def seen(m: Message) -> Seen:
    assert status(m) == "successful-ok", m
    out: Seen = []
    for g in m.groups_of(Tag.EVENT_NOTIFICATION_ATTRIBUTES):
        seq, ev, job = (g.get(n) for n in ("notify-sequence-number",
                                           "notify-subscribed-event", "notify-job-id"))
        assert seq is not None and ev is not None
        out.append((int(seq.value), str(ev.value), None if job is None else int(job.value)))
    return out


async def notifications(ipp: Ipp, sid: int) -> Seen:
    return seen(await ipp.call(Op.GET_NOTIFICATIONS,
                               a("notify-subscription-ids", Tag.INTEGER, sid)))


async def until(ipp: Ipp, sid: int, event: str, job_id: int) -> Seen:
    """Get-Notifications until ``event`` of ``job_id`` is in the answer (10 s at most)."""
    async with asyncio.timeout(10):
        while True:
            got = await notifications(ipp, sid)
            if (event, job_id) in [(e, j) for _, e, j in got]:
                return got
            await asyncio.sleep(0.1)


async def test_a_job_the_forwarder_completes_is_a_job_completed_event(
        ipp: Ipp, pdf: bytes) -> None:
    sid = await subscribe(ipp)                     # notify-events-default: job-completed
    job_id = await print_job(ipp, pdf)
    assert await wait_state(ipp, job_id, {COMPLETED}) == COMPLETED
    # No IPP operation of the client completed it: the forwarder did.
    assert await until(ipp, sid, "job-completed", job_id) == [(1, "job-completed", job_id)]
    m = await ipp.call(Op.GET_SUBSCRIPTION_ATTRIBUTES,
                       a("notify-subscription-id", Tag.INTEGER, sid))
    assert value(m, Tag.SUBSCRIPTION_ATTRIBUTES, "notify-sequence-number") == 1


async def test_two_nodes_give_the_same_events_with_the_same_numbers(
        tmp_path: Path, virtual_printer: Any, pdf: bytes) -> None:
    vp = await virtual_printer()
    base = make_config(tmp_path, queues=(QueueConfig("a", destination=vp.uri),))
    first = dataclasses.replace(base, storage=dataclasses.replace(base.storage, node="n0"))
    second = dataclasses.replace(first, server=dataclasses.replace(
        base.server, port=free_port()), storage=dataclasses.replace(base.storage, node="n1"))
    async with aiohttp.ClientSession() as session:
        one, two = Server(first, session), Server(second, session)
        await one.start()
        await two.start()
        try:
            sid = await subscribe(one.queue("a"), "job-state-changed", "printer-state-changed")
            job_id = await print_job(two.queue("a"), pdf)
            # Both nodes look at the job's changes at once, again and again, while it prints.
            while await wait_state(two.queue("a"), job_id, {COMPLETED}, 0.05) != COMPLETED:
                await asyncio.gather(notifications(one.queue("a"), sid),
                                     notifications(two.queue("a"), sid))
            via_two = await until(two.queue("a"), sid, "job-completed", job_id)
            via_one = await notifications(one.queue("a"), sid)
            assert via_one == via_two
            numbers = [n for n, _, _ in via_two]
            assert numbers == list(range(1, len(numbers) + 1))      # no gap, no duplicate
            events = [(e, j) for _, e, j in via_two]
            assert events[0] == ("job-created", job_id)
            assert events[-1] == ("job-completed", job_id)
            assert len(set(events)) == len(events)
            # A printer event of the other node, next in line (RFC 3995 §5.3.3.4).
            m = await two.admin("a").call(Op.PAUSE_PRINTER)
            assert status(m) == "successful-ok"
            after = await notifications(one.queue("a"), sid)
            assert after[-1] == (len(numbers) + 1, "printer-stopped", None)
            m = await one.queue("a").call(
                Op.GET_NOTIFICATIONS, a("notify-subscription-ids", Tag.INTEGER, sid),
                a("notify-sequence-numbers", Tag.INTEGER, len(numbers) + 1))
            assert seen(m) == after[-1:]
            # Canceled through the second node: gone on the first.
            m = await two.queue("a").call(Op.CANCEL_SUBSCRIPTION,
                                          a("notify-subscription-id", Tag.INTEGER, sid))
            assert status(m) == "successful-ok"
            m = await one.queue("a").call(Op.GET_NOTIFICATIONS,
                                          a("notify-subscription-ids", Tag.INTEGER, sid))
            assert status(m) == "client-error-not-found"
        finally:
            await two.stop()
            await one.stop()


async def test_the_feed_posts_job_changes_while_a_subscription_lives(tmp_path: Path) -> None:
    """``Subscriptions.run``: woken by this node's changes, it posts them without anyone
    asking for notifications; it stops looking when no subscription is left."""
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    upgrade(engine)
    async with JobStore(engine) as store:
        feed = Subscriptions(store, interval=0.2, idle_check=0.05, min_gap=0.01)
        task = asyncio.create_task(feed.run())
        try:
            sub = await store.subscriptions.create("q", "alice", ("job-state-changed",), 0)
            job = await store.create_job("q", owner="alice")
            feed.job_changed(job.uuid)
            await store.transition(job.uuid, JobEvent.CANCEL)
            feed.job_changed(job.uuid)
            async with asyncio.timeout(5):
                while len(events := await store.subscriptions.events(sub.id)) < 2:
                    await asyncio.sleep(0.02)
            assert [(e.sequence, e.event) for e in events] == [
                (1, "job-created"), (2, "job-completed")]
            await store.subscriptions.cancel(sub.id)
            async with asyncio.timeout(5):
                while feed._live:
                    await asyncio.sleep(0.02)
            # Changes while nobody subscribes are not replayed to a later subscription.
            other = await store.create_job("q", owner="alice")
            await asyncio.sleep(0.1)
            later = await store.subscriptions.create("q", "bob", ("job-state-changed",), 0)
            await store.transition(other.uuid, JobEvent.CANCEL)
            # The last look is this one alone: a look of the feed's own task, begun just
            # after it, would start counting again from 0 (CI saw keys_read == 0).
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            assert await feed.catch_up()
            assert [e.event for e in await store.subscriptions.events(later.id)] == [
                "job-completed"]
            # It counts what each look read (the 2 s overlap reads the change again if the
            # task's look posted it), which sets the next wait (lookgap.py).
            assert feed.keys_read >= 1
            assert feed.gap.after(feed.keys_read) == 0.01
        finally:
            task.cancel()
    engine.dispose()
