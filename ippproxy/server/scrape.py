"""``GET /metrics``: the Prometheus exposition, for a scraper with the token, never open.

A scraper presents ``server.metrics_token`` as ``Authorization: Bearer <token>`` (RFC 6750
§2.1); it is compared in constant time. An admin's session or API token is accepted too:
``add_metrics_route(app, token, admin_check=...)`` takes that check (``AdminCheck``;
app.py passes the web package's ``may_scrape``). With neither a
token nor an admin check the route is not registered at all (404). A refusal is a 401 with
``WWW-Authenticate: Bearer`` (RFC 6750 §3) and an RFC 9457 problem body. Plain HTTP never
gets here: redirect.py sends it to HTTPS first.

Before rendering, each queue's printer-state is set as Get-Printer-Attributes would answer
it (our pause, the destination's cached state, a job processing); queues that no longer
exist leave the exposition. With ``server.workers`` the answer holds every worker's
samples, each labelled with its worker (metrics_share.py).
"""

from __future__ import annotations

import asyncio
import hmac
import json
from collections.abc import Awaitable, Callable

from aiohttp import web

from ippproxy.metrics import CONTENT_TYPE
from ippproxy.server import printer_attrs
from ippproxy.server.context import QueueRuntime, ServerContext
from ippproxy.server.http import CTX
from ippproxy.server.metrics_share import MetricsShare
from ippproxy.server.ops.common import stored_status

METRICS_PATH = "/metrics"
BEARER = "bearer"
# Whether the request carries an admin's session that may read metrics (web/auth.py).
AdminCheck = Callable[[web.Request], Awaitable[bool]]


def _refusal(detail: str) -> web.Response:
    body = {"type": "about:blank", "title": "Unauthorized", "status": 401, "detail": detail}
    return web.Response(status=401, text=json.dumps(body),
                        content_type="application/problem+json",
                        headers={"WWW-Authenticate": 'Bearer realm="metrics"'})


def bearer_matches(header: str | None, token: str) -> bool:
    """``Authorization: Bearer <token>`` with exactly ``token`` (constant-time compare)."""
    if not token or not header:
        return False
    scheme, _, given = header.partition(" ")
    if scheme.lower() != BEARER:
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


async def _queue_state(ctx: ServerContext, queue: QueueRuntime) -> int:
    dest = await ctx.capabilities.printer_attributes(queue.config)
    status = await stored_status(ctx.store, queue.name)
    return printer_attrs.state(queue, dest, status)[0]


async def refresh_printer_states(ctx: ServerContext) -> None:
    queues = list(ctx.queues.values())
    states = await asyncio.gather(*(_queue_state(ctx, q) for q in queues))
    for q, state in zip(queues, states, strict=True):
        ctx.metrics.printer_state(q.name, state)
    for gone in ctx.metrics.printer_queues() - {q.name for q in queues}:
        ctx.metrics.forget_printer(gone)


def metrics_handler(token: str, admin_check: AdminCheck | None,
                    share: MetricsShare | None = None
                    ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handler(request: web.Request) -> web.StreamResponse:
        allowed = bearer_matches(request.headers.get("Authorization"), token)
        if not allowed and admin_check is not None:
            allowed = await admin_check(request)
        if not allowed:
            return _refusal("a scrape token (Authorization: Bearer) is required")
        ctx = request.app[CTX].get()
        await refresh_printer_states(ctx)
        body = ctx.metrics.render()
        if share is not None:
            body = await asyncio.to_thread(share.merged, body)
        resp = web.Response(body=body)
        resp.headers["Content-Type"] = CONTENT_TYPE
        resp.headers["Cache-Control"] = "no-store"
        return resp

    return handler


def add_metrics_route(app: web.Application, token: str,
                      admin_check: AdminCheck | None = None,
                      share: MetricsShare | None = None) -> None:
    """Register ``GET /metrics`` when someone may read it (else it stays a 404);
    ``share``: this process is one of several workers (metrics_share.py)."""
    if token or admin_check is not None:
        app.router.add_get(METRICS_PATH, metrics_handler(token, admin_check, share))
