"""A queue whose destination changed live (the catalog) answers with the new printer's
state at once: ``DestinationCapabilities.forget`` drops what was cached for the queue."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

from ippproxy.config import ForwardingConfig, QueueConfig, VirtualPrinterConfig
from ippproxy.forwarding.capabilities import DestinationCapabilities
from ippproxy.forwarding.client import DestinationClient


async def reasons(caps: DestinationCapabilities, queue: QueueConfig) -> str:
    attrs = await caps.printer_attributes(queue)
    assert attrs is not None
    return str(next(a.plain for a in attrs if a.name == "printer-state-reasons"))


async def test_a_new_destination_is_asked_once_the_queue_is_forgotten(
        virtual_printer: Any) -> None:
    jammed, idle = await virtual_printer(), await virtual_printer()
    await jammed.set_state("jam")
    async with aiohttp.ClientSession() as session:
        caps = DestinationCapabilities(
            ForwardingConfig(), VirtualPrinterConfig(),
            lambda uri, force: DestinationClient(uri, session, force_print_job=force), session)
        try:
            assert "media-jam" in await reasons(caps, QueueConfig("q", jammed.uri))
            moved = QueueConfig("q", idle.uri)
            await asyncio.sleep(0.15)              # past the per-burst memo
            assert "media-jam" in await reasons(caps, moved)   # the old printer's state
            caps.forget("q")
            assert "media-jam" not in await reasons(caps, moved)
        finally:
            await caps.close()
