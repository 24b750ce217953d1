"""A queue's jobs reach the printer one at a time and in order (forwarding/order.py)."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
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
    sent while the first still prints (the printer queues it)."""
    printer = await virtual_printer(print_delay=3.0)
    a, b = await submit_job(name="A"), await submit_job(name="B")
    fwd = Forwarder(store, spool, fast_config(printer.uri))
    await fwd.start()
    try:
        for rec in (a, b):
            at_printer = await wait_for_job(store, rec.uuid,
                                            lambda r: r.remote_job_id is not None, timeout=2.5)
            assert not at_printer.is_terminal
        # The row is visible as soon as it is committed; the forwarder hears of it (and
        # frees the gate) once it is synced too (jobs/_walsync.py): a moment later.
        for _ in range(100):
            if fwd.gate.sending("q") is None:
                break
            await asyncio.sleep(0.01)
        assert fwd.gate.sending("q") is None
    finally:
        await fwd.stop()
        await asyncio.sleep(0)


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


async def test_sends_are_spaced_while_the_server_receives_jobs(
        virtual_printer: Any, store: JobStore, spool: Any, submit_job: Any,
        fast_config: Any) -> None:
    """With submissions in flight, three queued jobs go 0.4 s apart; without, at once."""
    printer = await virtual_printer()
    config = fast_config(printer.uri)
    config = dataclasses.replace(config, forwarding=dataclasses.replace(
        config.forwarding, send_interval_while_receiving=0.4))
    gaps: dict[bool, list[float]] = {}
    for receiving in (True, False):
        recs = [await submit_job(name=f"{receiving}-{n}") for n in range(3)]
        fwd = Forwarder(store, spool, config, receiving=lambda r=receiving: r)
        await fwd.start()
        try:
            done = [await wait_for_job(store, r.uuid, lambda r: r.is_terminal, 30.0)
                    for r in recs]
        finally:
            await fwd.stop()
        started = sorted(d.processing_at for d in done if d.processing_at is not None)
        gaps[receiving] = [(b - a).total_seconds() for a, b in itertools.pairwise(started)]
    assert len(gaps[True]) == 2 and min(gaps[True]) >= 0.35, gaps
    assert max(gaps[False]) < 0.3, gaps
