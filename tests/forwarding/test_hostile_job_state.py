"""A followed job's state from a hostile printer (a real IPP server on a socket) is checked
before it reaches our job: reasons are keywords, the message printable, states and counts
in range (a negative page count must never reach the charge)."""

from __future__ import annotations

import aiohttp

from ippproxy.forwarding.client import DestinationClient
from ippproxy.ipp import Attribute, JobState, Tag
from testprinters.hostile import HostilePrinter


async def _job(*attrs: Attribute) -> tuple[int, tuple[str, ...], str, int | None, int | None]:
    async with HostilePrinter(job=attrs) as printer, aiohttp.ClientSession() as session:
        job = await DestinationClient(printer.uri, session, read_timeout=5).get_job(1)
    return job.state, job.reasons, job.message, job.impressions, job.sheets


async def test_hostile_job_state_is_checked() -> None:
    state, reasons, message, impressions, sheets = await _job(
        Attribute.single("job-id", Tag.INTEGER, 1),
        Attribute.single("job-state", Tag.ENUM, JobState.COMPLETED),
        Attribute.multi("job-state-reasons", Tag.KEYWORD,
                        ["job-completed-successfully", "x\r\n*Evil: y", "\u202eevil"]),
        Attribute.single("job-state-message", Tag.TEXT, "done\r\nforged log line \u202eabc"),
        Attribute.single("job-impressions-completed", Tag.INTEGER, -5),
        Attribute.single("job-media-sheets-completed", Tag.INTEGER, 3))
    assert state == JobState.COMPLETED
    assert reasons == ("job-completed-successfully",)
    assert message == "done forged log line abc"
    assert (impressions, sheets) == (None, 3)


async def test_an_invented_job_state_is_not_trusted() -> None:
    state, *_ = await _job(Attribute.single("job-id", Tag.INTEGER, 1),
                           Attribute.single("job-state", Tag.ENUM, 99))
    assert state == JobState.PENDING     # unknown: still followed, never taken as an end
