"""HTTP authentication per queue (RFC 7617 Basic), checked before an operation runs.

A queue whose ``BasicAuthenticator.required`` is true (basic_auth.py: RFC 7617 Basic,
verified by the user store) accepts no request without valid credentials: the expect
handler answers 401 before the body is sent when the HTTP path names such a queue, and
the IPP handler checks again once the attribute section is decoded, for the queue named
by ``printer-uri`` / ``job-uri`` as well (a request posted to an open path cannot reach a
protected queue). The authenticated canonical name then is the requesting user (the job
owner), whatever ``requesting-user-name`` says.

Passwords travel over TLS only: a request for such a queue that did not come over TLS is
answered ``426 Upgrade Required`` (RFC 9110 §15.5.22, as cupsd answers when encryption is
required) before its credentials are even looked at, and the queue's
``printer-uri-supported`` lists only its ``ipps://`` URI (printer_attrs.py).
"""

from __future__ import annotations

from aiohttp import web

from ippproxy.ipp import Message, Tag
from ippproxy.server.context import ServerContext
from ippproxy.server.uris import Target, parse_path, parse_uri

REALM = 'Basic realm="ippproxy", charset="UTF-8"'


def tls_required() -> web.Response:
    return web.Response(status=426, text="this queue takes passwords: use ipps:// (TLS)\n",
                        headers={"Upgrade": "TLS/1.2, HTTP/1.1", "Connection": "Upgrade"})


def unauthorized() -> web.Response:
    return web.Response(status=401, text="authentication required\n",
                        headers={"WWW-Authenticate": REALM})


def target_queues(ctx: ServerContext, path: str, msg: Message | None) -> set[str]:
    queues: set[str] = set()
    targets: list[Target | None] = [parse_path(path, ctx.default_queue)]
    if msg is not None:
        for name in ("printer-uri", "job-uri"):
            a = msg.get(Tag.OPERATION_ATTRIBUTES, name)
            if a is not None and isinstance(a.value, str):
                targets.append(parse_uri(a.value, ctx.default_queue))
    for t in targets:
        if t is not None and t.queue is not None:
            queues.add(t.queue)
    return queues


async def authenticate(ctx: ServerContext, request: web.Request,
                       msg: Message | None) -> str | None | web.Response:
    """None: no authentication needed; a name: authenticated; a Response: answer 401
    (or 426 without TLS)."""
    auth = ctx.authenticator
    if auth is None or not any(auth.required(q) for q in target_queues(ctx, request.path, msg)):
        return None
    if not request.secure:
        return tls_required()
    user = await auth.verify(request.headers.get("Authorization"))
    return unauthorized() if user is None else user
