"""DestinationClient against real printers over real sockets: the virtual printer and ippeveprinter."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from ippproxy.forwarding.client import (
    DestinationClient,
    ForwardJob,
    JobLookupUnsupported,
    RemoteJob,
)
from ippproxy.forwarding.errors import DestinationRejected, DestinationUnavailable
from ippproxy.ipp import Attribute, JobState, Status, Tag


def job(**kw: Any) -> ForwardJob:
    base: dict[str, Any] = {"uuid": str(uuid.uuid4()), "name": "report.pdf", "user": "alice",
                                "document_format": "application/pdf"}
    base.update(kw)
    return ForwardJob(**base)


async def wait_terminal(client: DestinationClient, remote_id: int) -> RemoteJob:
    async with asyncio.timeout(30):
        while True:
            r = await client.get_job(remote_id)
            if r.terminal:
                return r
            await asyncio.sleep(0.05)


@pytest.mark.parametrize("create_job", [True, False], ids=["create-job", "print-job"])
async def test_virtual_submit_counts_copies_and_sides(
        virtual_printer: Any, session: aiohttp.ClientSession, pdf3: Path,
        create_job: bool) -> None:
    printer = await virtual_printer(create_job=create_job)
    client = DestinationClient(printer.uri, session)
    attrs = (Attribute.single("copies", Tag.INTEGER, 2),
             Attribute.single("sides", Tag.KEYWORD, "two-sided-long-edge"),
             Attribute.single("job-hold-until", Tag.KEYWORD, "indefinite"))
    j = job(attributes=attrs)
    remote_id = await client.submit(j, [pdf3])
    done = await wait_terminal(client, remote_id)
    assert done.state == JobState.COMPLETED
    assert (done.impressions, done.sheets) == (6, 4)
    assert done.uuid == j.job_uuid_uri
    [vjob] = printer.jobs.values()
    assert (vjob.pages, vjob.copies, vjob.sides) == (3, 2, "two-sided-long-edge")
    found = await client.find_job_by_uuid(j.uuid)
    assert found is not None and found.job_id == remote_id
    assert await client.find_job_by_uuid(str(uuid.uuid4())) is None


async def test_attributes_are_cached(virtual_printer: Any, session: aiohttp.ClientSession
                                     ) -> None:
    printer = await virtual_printer()
    now = [0.0]
    client = DestinationClient(printer.uri, session, attributes_ttl=10, clock=lambda: now[0])
    first = await client.get_printer_attributes()
    await printer.set_state("offline")
    assert await client.get_printer_attributes() is first  # from the cache
    now[0] = 11.0
    with pytest.raises(DestinationUnavailable):
        await client.get_printer_attributes()
    async with aiohttp.ClientSession() as fresh:  # no kept-alive connection: refused
        with pytest.raises(DestinationUnavailable) as err:
            await DestinationClient(printer.uri, fresh).get_printer_attributes()
    assert not err.value.maybe_delivered
    assert first.get("media-col-database") is None  # only when asked for by name


@pytest.mark.parametrize("state,status", [
    ("busy", Status.SERVER_ERROR_BUSY),
    ("not-accepting", Status.SERVER_ERROR_NOT_ACCEPTING_JOBS),
    ("offline", None)])
async def test_unavailable_is_retryable(virtual_printer: Any, session: aiohttp.ClientSession,
                                        pdf3: Path, state: str, status: int | None) -> None:
    printer = await virtual_printer()
    client = DestinationClient(printer.uri, session)
    await client.get_printer_attributes()
    await printer.set_state(state)
    with pytest.raises(DestinationUnavailable) as err:
        await client.submit(job(), [pdf3])
    assert err.value.status == status
    assert printer.jobs == {}


async def test_unsupported_format_is_rejected(virtual_printer: Any,
                                              session: aiohttp.ClientSession, pdf3: Path) -> None:
    printer = await virtual_printer(formats=("application/pdf",))
    client = DestinationClient(printer.uri, session)
    with pytest.raises(DestinationRejected) as err:
        await client.submit(job(document_format="application/vnd.evil"), [pdf3])
    assert err.value.status == Status.CLIENT_ERROR_DOCUMENT_FORMAT_NOT_SUPPORTED


async def test_cancel_stopped_job(virtual_printer: Any, session: aiohttp.ClientSession,
                                  pdf3: Path) -> None:
    printer = await virtual_printer()
    client = DestinationClient(printer.uri, session)
    await printer.set_state("jam")
    remote_id = await client.submit(job(), [pdf3])
    await printer.wait_for(lambda: printer.jobs[remote_id].state == JobState.PROCESSING_STOPPED)
    attrs = await client.get_printer_attributes(refresh=True)
    reasons = attrs.get("printer-state-reasons")
    assert reasons is not None and reasons.plain == ["media-jam-error"]
    await client.cancel(remote_id)
    await client.cancel(remote_id)  # already canceled: not an error
    assert (await client.get_job(remote_id)).state == JobState.CANCELED


async def test_printer_without_job_uuid_listing(virtual_printer: Any,
                                                session: aiohttp.ClientSession,
                                                pdf3: Path) -> None:
    printer = await virtual_printer(list_job_uuid=False)
    client = DestinationClient(printer.uri, session)
    await client.submit(job(), [pdf3])
    with pytest.raises(JobLookupUnsupported):
        await client.find_job_by_uuid(str(uuid.uuid4()))


async def test_content_length_mode(virtual_printer: Any, session: aiohttp.ClientSession,
                                   pdf3: Path) -> None:
    printer = await virtual_printer(create_job=False)
    client = DestinationClient(printer.uri, session, chunked=False)
    remote_id = await client.submit(job(), [pdf3])
    assert (await wait_terminal(client, remote_id)).impressions == 3


@pytest.mark.parametrize("force_print_job", [False, True], ids=["create-job", "print-job"])
async def test_ippeveprinter(ippeveprinter_session: Any, session: aiohttp.ClientSession,
                             pdf3: Path, force_print_job: bool) -> None:
    eve = ippeveprinter_session(command="counting")
    client = DestinationClient(eve.uri, session, force_print_job=force_print_job)
    j = job(attributes=(Attribute.single("copies", Tag.INTEGER, 2),))
    remote_id = await client.submit(j, [pdf3])
    done = await wait_terminal(client, remote_id)
    assert done.state == JobState.COMPLETED
    assert done.impressions == 6
    found = await client.find_job_by_uuid(j.uuid)
    assert found is not None and found.job_id == remote_id
