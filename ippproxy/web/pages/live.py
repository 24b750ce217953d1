"""``GET /admin/events``: the live activity as server-sent events (HTML Living Standard
§9.2, ``text/event-stream``).

Each connection is one :class:`~ippproxy.services.events.Subscription`: the events queued
since the last write go out in one write; events the page was too slow for are dropped
by the hub and announced (``events-dropped``, with how many). A comment line every
``KEEPALIVE`` seconds keeps proxies from closing an idle stream; the stream ends when the
server shuts down (the hub closes its subscriptions) or the page goes away.
"""

from __future__ import annotations

import json

from aiohttp import web

from ippproxy.services.actor import Actor
from ippproxy.services.events import EventKind
from ippproxy.web.pages.guard import page
from ippproxy.web.pages.state import services
from ippproxy.web.sse import RETRY_MS, client_gone, next_batch


@page
async def events(request: web.Request, actor: Actor) -> web.StreamResponse:
    hub = services(request).hub
    gone = client_gone(request)
    async with hub.subscribe(actor) as sub:
        response = web.StreamResponse(headers={
            "Content-Type": "text/event-stream", "Cache-Control": "no-store",
            "X-Accel-Buffering": "no"})
        await response.prepare(request)
        await response.write(f"retry: {RETRY_MS}\n\n".encode())
        try:
            while not sub.closed:
                got = await next_batch(sub.next_batch, gone)
                if got is None:
                    await response.write(b": keep-alive\n\n")
                    continue
                batch, dropped = got
                data = b"".join(e.wire for e in batch)
                if dropped:
                    note = json.dumps({"kind": str(EventKind.DROPPED), "dropped": dropped,
                                       "at": hub.clock().isoformat()})
                    data = f"event: {EventKind.DROPPED}\ndata: {note}\n\n".encode() + data
                if data:
                    await response.write(data)
        except (ConnectionResetError, ConnectionError):
            pass            # the page went away
    return response
