"""A queue's jobs reach the printer one at a time and in order (forwarding/order.py)."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from support.jobs import wait_for_job

from ippproxy.forwarding.order import QueueGate
from ippproxy.forwarding.worker import Forwarder
from ippproxy.jobs.state import JobState
from ippproxy.jobs.store import JobStore

# -- the gate alone --------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_idle_gate_lets_any_queue_through() -> None:
    assert QueueGate(Clock()).claimable(["a", "b"]) is None


def test_a_sending_queue_is_not_claimable_until_its_job_leaves() -> None:
    gate = QueueGate(Clock())
    gate.enter("a", "job-1")
    assert gate.claimable(["a", "b"]) == ["b"]
    assert not gate.leave("a", "job-2")  # another job never frees the queue
    assert gate.claimable(["a", "b"]) == ["b"]
    assert gate.leave("a", "job-1")
    assert not gate.leave("a", "job-1")  # leaving twice is harmless
    assert gate.claimable(["a", "b"]) is None


def test_a_blocked_queue_waits_out_the_back_off() -> None:
    clock = Clock()
    gate = QueueGate(clock)
    gate.block("a", 5.0)
    assert gate.claimable(["a", "b"]) == ["b"]
    assert gate.seconds_to_unblock() == 5.0
    clock.now += 4.9
    assert gate.claimable(["a"]) == []
    clock.now += 0.1
    assert gate.claimable(["a"]) is None
    assert gate.seconds_to_unblock() is None


# -- the Forwarder with a real printer ------------------------------------------------------


async def _names_in_printer_order(printer: Any) -> list[str]:
    return [printer.jobs[k].name for k in sorted(printer.jobs)]


async def test_jobs_reach_the_printer_in_submission_order(
        virtual_printer: Any, store: JobStore, spool: Any, submit_job: Any,
        fast_config: Any) -> None:
    printer = await virtual_printer()
    recs = [await submit_job(name=f"job-{n:02}") for n in range(12)]
    fwd = Forwarder(store, spool, fast_config(printer.uri))
    await fwd.start()
    try:
        for rec in recs:
            done = await wait_for_job(store, rec.uuid, lambda r: r.is_terminal, 30.0)
            assert done.state == JobState.COMPLETED, done.state_message
    finally:
        await fwd.stop()
    assert await _names_in_printer_order(printer) == [f"job-{n:02}" for n in range(12)]


async def test_a_later_job_does_not_overtake_one_waiting_for_its_retry(
        virtual_printer: Any, store: JobStore, spool: Any, submit_job: Any,
        fast_config: Any) -> None:
    """Job A fails (printer offline) and waits 1 s for its retry; job B arrives and the
    printer comes back meanwhile. B must wait behind A, not be sent first."""
    printer = await virtual_printer()
    await printer.set_state("offline")
    config = fast_config(printer.uri)
    config = dataclasses.replace(config, forwarding=dataclasses.replace(
        config.forwarding, retry_initial=1.0, retry_max=1.0))
    fwd = Forwarder(store, spool, config)
    await fwd.start()
    try:
        a = await submit_job(name="A")
        fwd.job_changed(a.uuid)
        await wait_for_job(store, a.uuid, lambda r: r.forward_attempts >= 1
                           and r.state == JobState.PENDING and r.next_attempt_at is not None, 30.0)
        await printer.set_state("online")
        b = await submit_job(name="B")
        fwd.job_changed(b.uuid)
        for rec in (a, b):
            done = await wait_for_job(store, rec.uuid, lambda r: r.is_terminal, 30.0)
            assert done.state == JobState.COMPLETED, done.state_message
    finally:
        await fwd.stop()
    assert await _names_in_printer_order(printer) == ["A", "B"]


async def test_the_next_job_goes_while_the_last_one_prints(
        virtual_printer: Any, store: JobStore, spool: Any, submit_job: Any,
        fast_config: Any) -> None:
    """One job at a time on its way, not one job at a time at the printer: the second is
    sent while the first is still at the printer (the printer queues it). A jammed printer
    takes jobs and prints none, so "still at the printer" holds until the test clears it."""
    printer = await virtual_printer()
    await printer.set_state("jam")
    a, b = await submit_job(name="A"), await submit_job(name="B")
    fwd = Forwarder(store, spool, fast_config(printer.uri))
    await fwd.start()
    try:
        for rec in (a, b):
            await wait_for_job(store, rec.uuid, lambda r: r.remote_job_id is not None, 30.0)
        first = await store.get_by_uuid(a.uuid)
        assert first is not None and not first.is_terminal  # B went while A was at the printer
        # The row is visible as soon as it is committed; the forwarder hears of it (and
        # frees the gate) once it is synced too (db/walsync.py): a moment later.
        async with asyncio.timeout(30):
            while fwd.gate.sending("q") is not None:
                await asyncio.sleep(0.01)
        await printer.set_state("clear")
        for rec in (a, b):
            done = await wait_for_job(store, rec.uuid, lambda r: r.is_terminal, 30.0)
            assert done.state == JobState.COMPLETED, done.state_message
    finally:
        await fwd.stop()
        await asyncio.sleep(0)
    assert await _names_in_printer_order(printer) == ["A", "B"]


def test_while_receiving_a_queue_sends_at_most_once_per_spacing() -> None:
    clock, receiving = Clock(), [True]
    gate = QueueGate(clock, spacing=0.5, receiving=lambda: receiving[0])
    gate.enter("a", "job-1")
    gate.leave("a", "job-1")
    assert gate.claimable(["a", "b"]) == ["b"]
    assert gate.seconds_to_unblock() == 0.5
    clock.now += 0.3
    assert gate.claimable(["a"]) == []
    receiving[0] = False  # intake went quiet: no need to wait any longer
    assert gate.claimable(["a"]) is None
    receiving[0] = True
    clock.now += 0.2
    assert gate.claimable(["a"]) is None


async def test_while_the_server_receives_jobs_the_next_send_waits(
        virtual_printer: Any, store: JobStore, spool: Any, submit_job: Any,
        fast_config: Any) -> None:
    """Intake first (order.py), seen in the order of events: with a submission in flight
    the queue's next job is not sent, not even once the last one has printed (the spacing
    is longer than the test); when intake ends, the rest go, in order. Without intake the
    next job goes while the last one still prints (the test above). Send spacing in
    seconds: benchmarks/bench_send_spacing.py."""
    printer = await virtual_printer(print_delay=1.0)  # A prints long enough for B to go
    config = fast_config(printer.uri)
    config = dataclasses.replace(config, forwarding=dataclasses.replace(
        config.forwarding, send_interval_while_receiving=3600.0))
    receiving = [True]
    recs = [await submit_job(name=name) for name in "ABC"]
    fwd = Forwarder(store, spool, config, receiving=lambda: receiving[0])
    await fwd.start()
    try:
        first = await wait_for_job(store, recs[0].uuid, lambda r: r.is_terminal, 30.0)
        assert first.state == JobState.COMPLETED, first.state_message
        for rec in recs[1:]:  # A has printed; B and C still wait for intake to end
            waiting = await store.get_by_uuid(rec.uuid)
            assert waiting is not None and waiting.state == JobState.PENDING
            assert waiting.remote_job_id is None and waiting.processing_at is None
        assert [j.name for j in printer.jobs.values()] == ["A"]
        receiving[0] = False
        done = [await wait_for_job(store, r.uuid, lambda r: r.is_terminal, 30.0)
                for r in recs[1:]]
    finally:
        await fwd.stop()
    assert [d.state for d in done] == [JobState.COMPLETED] * 2, [d.state_message for d in done]
    assert await _names_in_printer_order(printer) == ["A", "B", "C"]
