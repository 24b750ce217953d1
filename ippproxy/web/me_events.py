"""``GET /api/v1/me/events``: a user's live events as server-sent events (HTML Living
Standard §9.2, ``text/event-stream``; services/usernotices.py): the account questions of
their held jobs (``account-needed``, the outstanding ones first) and their jobs' changes
(``job-state``). A comment line every ``KEEPALIVE`` seconds keeps proxies from closing
an idle stream; the client reconnects after ``RETRY_MS`` (web/sse.py). While a stream is
open and its client has not gone away, the server counts the user as connected."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ippproxy.services.errors import NotFound
from ippproxy.web.api import Call, Operation
from ippproxy.web.me_api import user_of
from ippproxy.web.sse import RETRY_MS, client_gone, next_batch


async def my_events(call: Call) -> Any:
    notices = call.services.notices
    if notices is None:   # accounting off: no accounts to ask about
        raise NotFound("event stream", "me")
    # The socket's peer: no option names trusted reverse proxies, so X-Forwarded-For is
    # not believed (services/nearby.py).
    gone = client_gone(call.request)   # a client that went away is not connected (sse.py)
    async with notices.subscribe(user_of(call), call.request.remote or "", gone) as stream:
        response = web.StreamResponse(headers={
            "Content-Type": "text/event-stream", "Cache-Control": "no-store",
            "X-Accel-Buffering": "no"})
        await response.prepare(call.request)
        await response.write(f"retry: {RETRY_MS}\n\n".encode())
        try:
            while not stream.closed:
                data = await next_batch(stream.next_batch, gone)
                if data is None:
                    data = b": keep-alive\n\n"
                if data:
                    await response.write(data)
        except (ConnectionResetError, ConnectionError):
            pass            # the client went away
    return response


OPERATIONS = (
    Operation("GET", "/me/events", my_events,
              "Your live events (text/event-stream): account questions, job changes", "me"),
)
