"""The Forwarder end to end: job store + spool -> real printers over real sockets."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from support.jobs import wait_for_job

from ippproxy.config import Config
from ippproxy.forwarding.client import DestinationClient, ForwardJob, RemoteJob
from ippproxy.forwarding.follow import _mirror
from ippproxy.forwarding.worker import Forwarder
from ippproxy.ipp import Attribute, Tag
from ippproxy.jobs.records import JobRecord
from ippproxy.jobs.spool import Spool
from ippproxy.jobs.state import InvalidTransition, JobEvent, JobState
from ippproxy.jobs.store import JobStore

SubmitJob = Callable[..., Any]


class Harness:
    def __init__(self, store: JobStore, spool: Spool) -> None:
        self.store, self.spool = store, spool
        self.forwarders: list[Forwarder] = []

    async def start(self, config: Config, **kw: Any) -> Forwarder:
        fwd = Forwarder(self.store, self.spool, config, **kw)
        await fwd.start()
        self.forwarders.append(fwd)
        return fwd

    async def wait(self, uuid: str, pred: Callable[[JobRecord], bool],
                   timeout: float = 30.0) -> JobRecord:
        return await wait_for_job(self.store, uuid, pred, timeout)


@pytest.fixture
async def harness(store: JobStore, spool: Spool) -> AsyncIterator[Harness]:
    h = Harness(store, spool)
    yield h
    for fwd in h.forwarders:
        await fwd.stop()


def terminal(rec: JobRecord) -> bool:
    return rec.is_terminal


@pytest.mark.parametrize("create_job", [True, False], ids=["create-job", "print-job"])
async def test_forward_to_virtual(virtual_printer: Any, harness: Harness,
                                  submit_job: SubmitJob, fast_config: Any, create_job: bool) -> None:
    printer = await virtual_printer(create_job=create_job)
    await harness.start(fast_config(printer.uri))
    rec = await submit_job(Attribute.single("copies", Tag.INTEGER, 2),
                           Attribute.single("sides", Tag.KEYWORD, "two-sided-long-edge"))
    done = await harness.wait(rec.uuid, terminal)
    assert done.state == JobState.COMPLETED, done.state_message
    assert (done.impressions_completed, done.media_sheets_completed) == (6, 4)
    assert done.forward_started and done.remote_job_id == 1
    assert len(printer.jobs) == 1


@pytest.mark.parametrize("force_print_job", [False, True], ids=["create-job", "print-job"])
async def test_forward_to_ippeveprinter(ippeveprinter_session: Any, harness: Harness,
                                        submit_job: SubmitJob, fast_config: Any, force_print_job: bool) -> None:
    eve = ippeveprinter_session(command="counting")
    await harness.start(fast_config(eve.uri, force_print_job=force_print_job))
    rec = await submit_job()
    done = await harness.wait(rec.uuid, terminal)
    assert done.state == JobState.COMPLETED, done.state_message
    assert done.impressions_completed == 3


async def test_offline_then_back_delivers_once(virtual_printer: Any, harness: Harness,
                                               submit_job: SubmitJob, fast_config: Any) -> None:
    printer = await virtual_printer()
    await printer.set_state("offline")
    await harness.start(fast_config(printer.uri))
    rec = await submit_job()
    waiting = await harness.wait(rec.uuid, lambda r: r.forward_attempts >= 1
                                 and r.state == JobState.PENDING and r.next_attempt_at is not None)
    assert "printer-stopped" in waiting.state_reasons
    assert "unavailable" in (waiting.state_message or "")
    await printer.set_state("online")
    done = await harness.wait(rec.uuid, terminal)
    assert done.state == JobState.COMPLETED
    assert len(printer.jobs) == 1


async def test_busy_then_free(virtual_printer: Any, harness: Harness,
                              submit_job: SubmitJob, fast_config: Any) -> None:
    printer = await virtual_printer()
    await printer.set_state("busy")
    await harness.start(fast_config(printer.uri))
    rec = await submit_job()
    waiting = await harness.wait(rec.uuid, lambda r: r.state == JobState.PENDING
                                 and "resources-are-not-ready" in r.state_reasons)
    assert "busy" in (waiting.state_message or "")
    await printer.set_state("clear")
    done = await harness.wait(rec.uuid, terminal)
    assert done.state == JobState.COMPLETED
    assert len(printer.jobs) == 1


async def test_jam_stops_then_resumes(virtual_printer: Any, harness: Harness,
                                      submit_job: SubmitJob, fast_config: Any) -> None:
    printer = await virtual_printer()
    await printer.set_state("jam")
    await harness.start(fast_config(printer.uri))
    rec = await submit_job()
    stopped = await harness.wait(rec.uuid, lambda r: r.state == JobState.PROCESSING_STOPPED)
    assert stopped.state_reasons == ("printer-stopped",)
    await printer.set_state("clear")
    done = await harness.wait(rec.uuid, terminal)
    assert done.state == JobState.COMPLETED and done.impressions_completed == 3
    assert len(printer.jobs) == 1


@pytest.mark.parametrize("operation", ["Print-Job", "Send-Document"])
async def test_lost_response_is_not_printed_twice(virtual_printer: Any, harness: Harness,
                                                  submit_job: SubmitJob, fast_config: Any, operation: str) -> None:
    printer = await virtual_printer(create_job=operation == "Send-Document")
    printer.lose_next_response(operation)
    await harness.start(fast_config(printer.uri))
    rec = await submit_job()
    done = await harness.wait(rec.uuid, terminal)
    assert done.state == JobState.COMPLETED
    assert done.forward_attempts == 1  # found by job-uuid, not sent again
    assert len(printer.jobs) == 1


async def test_cancel_on_our_side_cancels_remote(virtual_printer: Any, harness: Harness,
                                                 submit_job: SubmitJob, fast_config: Any,
                                                 store: JobStore) -> None:
    printer = await virtual_printer()
    await printer.set_state("jam")
    fwd = await harness.start(fast_config(printer.uri))
    rec = await submit_job()
    await harness.wait(rec.uuid, lambda r: r.state == JobState.PROCESSING_STOPPED)
    from ippproxy.jobs.state import JobEvent
    await store.transition(rec.uuid, JobEvent.CANCEL)
    fwd.job_changed(rec.uuid)
    await printer.wait_for(lambda: printer.jobs[1].state == JobState.CANCELED)


async def test_format_the_printer_cannot_take_is_aborted(
        virtual_printer: Any, harness: Harness, submit_job: SubmitJob, fast_config: Any) -> None:
    # No conversion from PDF to JPEG (test_conversion.py has the ones that exist).
    printer = await virtual_printer(formats=("image/jpeg",))
    await harness.start(fast_config(printer.uri))
    rec = await submit_job()
    done = await harness.wait(rec.uuid, terminal)
    assert done.state == JobState.ABORTED
    assert "unsupported-document-format" in done.state_reasons
    assert "accepts only image/jpeg" in (done.state_message or "")
    assert printer.jobs == {}


async def test_restart_mid_forward_follows_the_remote_job(
        virtual_printer: Any, harness: Harness, submit_job: SubmitJob, fast_config: Any,
        store: JobStore, spool: Spool) -> None:
    printer = await virtual_printer()
    await printer.set_state("jam")  # the job stays at the printer, unfinished
    first = await harness.start(fast_config(printer.uri))
    rec = await submit_job()
    await harness.wait(rec.uuid, lambda r: r.state == JobState.PROCESSING_STOPPED)
    await first.stop()  # "crash": the job is left processing-stopped in the store
    recovered = await store.recover(spool)
    assert [r.uuid for r in recovered] == [rec.uuid]
    again = await store.get_by_uuid(rec.uuid)
    assert again is not None and again.state == JobState.PENDING and again.forward_started
    await harness.start(fast_config(printer.uri))
    await harness.wait(rec.uuid, lambda r: r.state == JobState.PROCESSING_STOPPED)
    await printer.set_state("clear")
    done = await harness.wait(rec.uuid, terminal)
    assert done.state == JobState.COMPLETED and done.impressions_completed == 3
    assert done.forward_attempts == 1
    assert len(printer.jobs) == 1


async def test_restart_before_the_printer_got_it_resends(
        virtual_printer: Any, harness: Harness, submit_job: SubmitJob, fast_config: Any,
        store: JobStore) -> None:
    printer = await virtual_printer()
    rec = await submit_job()
    # crashed right after committing forward_started, before a byte went out
    await store.update_forwarding(rec.uuid, forward_started=True, forward_attempts=1)
    await harness.start(fast_config(printer.uri))
    done = await harness.wait(rec.uuid, terminal)
    assert done.state == JobState.COMPLETED
    assert done.forward_attempts == 2
    assert len(printer.jobs) == 1


@pytest.mark.parametrize("policy", ["hold", "resend"])
async def test_printer_that_cannot_tell(virtual_printer: Any, harness: Harness,
                                        submit_job: SubmitJob, fast_config: Any,
                                        store: JobStore, policy: str, pdf3: Path) -> None:
    printer = await virtual_printer(list_job_uuid=False)
    async with aiohttp.ClientSession() as session:  # somebody else's job is at the printer
        await DestinationClient(printer.uri, session).submit(
            ForwardJob(uuid=str(uuid.uuid4()), name="other", user="bob"), [pdf3])
    rec = await submit_job()
    await store.update_forwarding(rec.uuid, forward_started=True, forward_attempts=1)
    await harness.start(fast_config(printer.uri), unknown_outcome=policy)
    if policy == "hold":
        held = await harness.wait(rec.uuid, lambda r: r.state == JobState.PENDING_HELD)
        assert "cannot tell" in (held.state_message or "")
        assert not held.forward_started and len(printer.jobs) == 1
    else:
        done = await harness.wait(rec.uuid, terminal)
        assert done.state == JobState.COMPLETED and len(printer.jobs) == 2


async def test_offline_printer_that_cannot_tell_still_delivers_once(
        virtual_printer: Any, harness: Harness, submit_job: SubmitJob, fast_config: Any) -> None:
    printer = await virtual_printer(list_job_uuid=False)
    await printer.set_state("offline")
    await harness.start(fast_config(printer.uri))
    rec = await submit_job()
    await harness.wait(rec.uuid, lambda r: r.forward_attempts >= 1 and r.state == JobState.PENDING
                       and r.next_attempt_at is not None)
    await printer.set_state("online")
    done = await harness.wait(rec.uuid, terminal)
    assert done.state == JobState.COMPLETED and len(printer.jobs) == 1


async def test_a_queue_added_by_reconfigure_is_forwarded(
        virtual_printer: Any, harness: Harness, submit_job: SubmitJob,
        fast_config: Any) -> None:
    """The catalog added queue q while the Forwarder runs (app.py hands it the new
    effective Config): its waiting job goes to the new destination."""
    printer = await virtual_printer()
    config = fast_config(printer.uri)
    fwd = await harness.start(dataclasses.replace(config, queues=()))
    rec = await submit_job()
    fwd.reconfigure(config)
    done = await harness.wait(rec.uuid, terminal)
    assert done.state == JobState.COMPLETED, done.state_message
    assert len(printer.jobs) == 1


async def test_a_job_canceled_while_its_attempt_fails_stays_canceled(
        harness: Harness, submit_job: SubmitJob, fast_config: Any, store: JobStore,
        caplog: pytest.LogCaptureFixture) -> None:
    """The printer drops the connection only after the job was canceled here: the failed
    attempt finds the job canceled and leaves it so, with no error (no requeue of a
    canceled job, no traceback in the log)."""
    caplog.set_level(logging.INFO, logger="ippproxy.forwarding")
    hang_up = asyncio.Event()
    connected = asyncio.Event()

    async def printer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connected.set()
        await hang_up.wait()
        writer.close()                                   # no answer: the attempt fails

    server = await asyncio.start_server(printer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        await harness.start(fast_config(f"ipp://127.0.0.1:{port}/ipp/print"))
        rec = await submit_job()
        await asyncio.wait_for(connected.wait(), 30)
        await harness.wait(rec.uuid, lambda r: r.state == JobState.PROCESSING)
        await store.transition(rec.uuid, JobEvent.CANCEL)
        hang_up.set()
        await harness.wait(rec.uuid, lambda r: "changed state while being forwarded" in
                           caplog.text or r.state != JobState.CANCELED)
        done = await store.get_by_uuid(rec.uuid)
        assert done is not None and done.state == JobState.CANCELED
        assert "changed state while being forwarded" in caplog.text
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
    finally:
        server.close()


async def test_a_forwarded_job_costs_four_writes(virtual_printer: Any, harness: Harness,
                                                 submit_job: SubmitJob, fast_config: Any,
                                                 store: JobStore) -> None:
    # Each write is a durable commit (an fsync): the claim, forward_started before the first
    # byte goes out, the printer's job-id, and then the printer's counts with the job's end
    # in one commit (not two).
    printer = await virtual_printer()
    rec = await submit_job()
    before = store.stats().ops
    await harness.start(fast_config(printer.uri))
    done = await harness.wait(rec.uuid, terminal)
    assert done.state == JobState.COMPLETED, done.state_message
    assert done.impressions_completed == 3
    assert store.stats().ops - before == 4


async def test_counts_kept_when_ours_ended_while_the_printer_finished(
        submit_job: SubmitJob, store: JobStore) -> None:
    rec = await submit_job()
    claimed = await store.claim_next_for_forwarding()
    assert claimed is not None and claimed.uuid == rec.uuid
    await store.transition(rec.uuid, JobEvent.CANCEL)   # Cancel-Job on our side, meanwhile
    remote = RemoteJob(job_id=7, state=JobState.COMPLETED, impressions=3, sheets=2)
    with pytest.raises(InvalidTransition):
        await _mirror(store, claimed, remote, "")
    ended = await store.get_by_uuid(rec.uuid)
    assert ended is not None and ended.state == JobState.CANCELED
    assert (ended.impressions_completed, ended.media_sheets_completed) == (3, 2)
