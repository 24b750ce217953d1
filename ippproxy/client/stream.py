"""One long-lived event stream that reconnects by itself.

The connection is read line by line into the parser (``sse.py``); when it breaks (the
server restarted, the network went away, the keep-alive stopped for 60 s) the client waits
and connects again: first after the server's ``retry`` time (or 1 s), doubling up to 60 s,
with up to 25 % random jitter so that a restarted server is not hit by every client at once;
a connection that stays up resets the delay. ``Last-Event-ID`` carries the last event id
seen. The server sends the outstanding questions again on every connection, so nothing
asked while the client was away is missed."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable

import aiohttp

from ippproxy.client.api import Api
from ippproxy.client.errors import Refused
from ippproxy.client.sse import Event, EventParser

log = logging.getLogger(__name__)
MAX_DELAY = 60.0
OnEvent = Callable[[Event], Awaitable[None]]
OnStatus = Callable[[str], None]


def next_delay(delay: float, base: float) -> float:
    return min(MAX_DELAY, max(base, delay * 2))


def jittered(delay: float) -> float:
    return delay * (1 + random.random() / 4)   # spreading retries, not a secret


async def follow(api: Api, on_event: OnEvent, on_status: OnStatus,
                 stop: asyncio.Event) -> None:
    """Read the stream until ``stop`` is set, reconnecting after every break."""
    last_id: str | None = None
    base = 1.0
    delay = base
    while not stop.is_set():
        parser = EventParser()
        parser.last_id = last_id
        try:
            async with api.events(last_id) as response:
                on_status("connected")
                delay = base
                async for raw in response.content:
                    event = parser.feed_line(raw.decode("utf-8", "replace").rstrip("\r\n"))
                    if event is not None:
                        await on_event(event)
                    if stop.is_set():
                        return
            reason = "the server closed the stream"
        except Refused as e:
            if e.status in (401, 403):
                raise
            reason = f"HTTP {e.status}: {e.detail}"
        except (aiohttp.ClientError, TimeoutError, ConnectionError, ValueError) as e:
            reason = f"{type(e).__name__}: {e}"
        last_id = parser.last_id
        if parser.retry_ms is not None:
            base = max(0.1, parser.retry_ms / 1000)
        wait = jittered(delay)
        on_status(f"disconnected ({reason}); reconnecting in {wait:.1f} s")
        try:
            await asyncio.wait_for(stop.wait(), wait)
        except TimeoutError:
            pass
        delay = next_delay(delay, base)
