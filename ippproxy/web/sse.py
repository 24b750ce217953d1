"""Server-sent events (HTML Living Standard §9.2): waiting for a stream's next batch while
watching for its client going away.

aiohttp tells a handler that its client closed the connection only when the handler next
writes to it (or cancels the handler, for every route at once: ``handler_cancellation``).
A stream's writes can be a keep-alive apart (``KEEPALIVE``), and while it is open its user
counts as connected (services/usernotices.py): a client that went away would still be
asked the questions of its user's jobs, and the admin's "no client connected" alert would
not be raised. So the wait looks at the connection every ``POLL`` seconds, and
:func:`client_gone` lets the services ask at the moment it matters.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiohttp import web

T = TypeVar("T")
KEEPALIVE = 15.0   # seconds without an event before a comment line (kept by proxies)
POLL = 0.5         # seconds between two looks at the connection
RETRY_MS = 3000    # the client's reconnection delay (the ``retry:`` field)


def client_gone(request: web.Request) -> Callable[[], bool]:
    """Whether the request's connection is closed (the client went away)."""
    def gone() -> bool:
        transport = request.transport
        return transport is None or transport.is_closing()
    return gone


async def next_batch(get: Callable[[], Awaitable[T]], gone: Callable[[], bool]) -> T | None:
    """``get()``'s result; None after ``KEEPALIVE`` seconds without one (time for a
    keep-alive line). Raises ConnectionResetError as soon as ``gone()``."""
    task = asyncio.ensure_future(get())
    try:
        for _ in range(int(KEEPALIVE / POLL)):
            done, _ = await asyncio.wait({task}, timeout=POLL)
            if done:
                return task.result()
            if gone():
                raise ConnectionResetError("the client went away")
        return None
    finally:
        if not task.done():
            task.cancel()
