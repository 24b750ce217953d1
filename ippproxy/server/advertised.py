"""A queue's printer attributes outside any request, for its DNS-SD announcement
(ippproxy/dnssd/ makes the TXT record from them): the same ``printer_attrs.build`` answer a
Get-Printer-Attributes gets, with URIs written for the announced host."""

from __future__ import annotations

from ippproxy.config import QueueConfig
from ippproxy.ipp import Attribute
from ippproxy.server import printer_attrs
from ippproxy.server.context import QueueRuntime, ServerContext
from ippproxy.server.dispatch import SUPPORTED_OPERATIONS
from ippproxy.server.ops.common import stored_status
from ippproxy.server.uris import Origin


async def queue_attributes(ctx: ServerContext, queue: QueueConfig, authority: str
                           ) -> list[Attribute]:
    runtime = ctx.queues.get(queue.name) or QueueRuntime(queue)
    dest = await ctx.capabilities.printer_attributes(runtime.config)
    status = await stored_status(ctx.store, queue.name)
    return printer_attrs.build(ctx, runtime, Origin(authority), dest, status,
                               list(SUPPORTED_OPERATIONS))
