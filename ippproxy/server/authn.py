"""Who is asking: HTTP authentication of IPP requests, checked before an operation runs.

Theory of operation. ``authenticate`` proves an ``Identity`` from exactly one source:

* the local Unix socket (``server.unix_socket``): the peer's credentials (SO_PEERCRED,
  as cupsd's ``PeerCred``); uid 0 and the server's own uid are admins, any other uid is
  an ordinary user by its name in the password database (canonical, as every user name
  is), never an admin whatever that name is; a uid without a name there proves nothing;
* an ``Authorization`` header (Basic or Bearer, basic_auth.py), checked whenever one is
  sent, on any queue. Credentials travel over TLS only: a request that carries them (or
  that is for a queue with ``authentication = "basic"``) not over TLS is answered
  ``426 Upgrade Required`` (RFC 9110 §15.5.22, as cupsd answers when encryption is
  required) before they are even looked at, and such a queue's ``printer-uri-supported``
  lists only its ``ipps://`` URI (printer_attrs.py). Wrong credentials: HTTP 401; a
  throttled login: HTTP 429 with ``Retry-After`` (the password was not checked).

A personal printer URL (``/printers/NAME/u/SECRET``, services/printer_urls.py) proves its
owner when no ``Authorization`` header is sent: only on a queue with ``authentication =
"token"``, over TLS unless that queue's ``token_over_ipp`` allows plain ``ipp://``; a
revoked or unknown secret is HTTP 401, any other queue answers 404.

A queue whose ``BasicAuthenticator.required`` is true accepts no request without valid
credentials: the expect handler answers 401 before the body is sent when the HTTP path names
such a queue, and the IPP handler checks again once the attribute section is decoded, for the
queue named by ``printer-uri`` / ``job-uri`` as well (a request posted to an open path cannot
reach a protected queue). The authenticated canonical name then is the requesting user (the
job owner), whatever ``requesting-user-name`` says.

An admin operation asked by nobody proven is answered ``client-error-not-authenticated``
with HTTP 401 and ``WWW-Authenticate`` (``answer``), so that CUPS tools ask for a password
(cupsd answers HTTP 401 the same way, RFC 8010 §4.4 / RFC 8011 §4.1.9).
"""

from __future__ import annotations

import math
import os
import pwd
import socket
import struct

from aiohttp import web

from ippproxy.accounting.identity import canonical_name
from ippproxy.ipp import Message, Status, Tag
from ippproxy.server.context import ServerContext
from ippproxy.server.identity import NOBODY, Identity
from ippproxy.server.uris import Target, parse_path, parse_uri, personal_secret

REALM = 'Basic realm="ippproxy", charset="UTF-8"'
IPP_TYPE = "application/ipp"
_UCRED = struct.Struct("3i")   # struct ucred: pid, uid, gid (socket(7), SO_PEERCRED)


def tls_required() -> web.Response:
    return web.Response(status=426, text="credentials travel over TLS only: use ipps://\n",
                        headers={"Upgrade": "TLS/1.2, HTTP/1.1", "Connection": "Upgrade"})


def unauthorized() -> web.Response:
    return web.Response(status=401, text="authentication required\n",
                        headers={"WWW-Authenticate": REALM})


def throttled(wait: float) -> web.Response:
    return web.Response(status=429, text="too many failed logins; try again later\n",
                        headers={"Retry-After": str(max(1, math.ceil(wait)))})


def not_served() -> web.Response:
    return web.Response(status=404, text="this queue serves no personal printer URLs\n")


def answer(body: bytes, status: int) -> web.Response:
    """An IPP answer; ``client-error-not-authenticated`` goes with HTTP 401 and the
    challenge, so that clients ask for credentials."""
    if status == Status.CLIENT_ERROR_NOT_AUTHENTICATED:
        return web.Response(status=401, body=body, content_type=IPP_TYPE,
                            headers={"WWW-Authenticate": REALM})
    return web.Response(body=body, content_type=IPP_TYPE)


def peer_uid(request: web.Request) -> int | None:
    """The uid of the peer of a Unix-socket connection, as the kernel recorded it when the
    peer connected (SO_PEERCRED, socket(7)); None for any other transport (TCP, even from
    127.0.0.1, proves no local account). The web side gets it through ``WebServices``
    (wired by app.py) for the desktop login."""
    transport = request.transport
    sock = None if transport is None else transport.get_extra_info("socket")
    if sock is None or sock.family != socket.AF_UNIX:
        return None
    _pid, uid, _gid = _UCRED.unpack(
        sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _UCRED.size))
    return int(uid)


def peer_identity(request: web.Request) -> Identity | None:
    """The peer of a Unix-socket connection (SO_PEERCRED); None for any other transport."""
    uid = peer_uid(request)
    return None if uid is None else local_identity(uid, os.geteuid())


def local_identity(uid: int, own_uid: int) -> Identity:
    """Who a local peer with ``uid`` is, to a server running as ``own_uid``."""
    try:
        name = canonical_name(pwd.getpwuid(uid).pw_name)
    except (KeyError, ValueError):
        return NOBODY if uid not in (0, own_uid) else Identity(f"uid:{uid}", admin=True)
    return Identity(name, admin=uid in (0, own_uid))


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
                       msg: Message | None) -> Identity | web.Response:
    """The proven identity (``NOBODY`` when nothing was sent on an open queue), or the
    Response to answer: 401, 426 without TLS, 429 when throttled."""
    peer = peer_identity(request)
    if peer is not None:
        return peer
    auth = ctx.authenticator
    header = request.headers.get("Authorization")
    secret = personal_secret(request.path)
    if secret is not None and header is None:
        return await _personal(ctx, request, msg, secret)
    required = auth is not None and any(
        auth.required(q) for q in target_queues(ctx, request.path, msg))
    if not required and header is None:
        return NOBODY
    if not request.secure:
        return tls_required()
    if auth is None:
        return unauthorized()
    found = await auth.verify(header, request.remote or "")
    if isinstance(found, float):
        return throttled(found)
    return unauthorized() if found is None else found


async def _personal(ctx: ServerContext, request: web.Request, msg: Message | None,
                    secret: str) -> Identity | web.Response:
    """A personal printer URL: served by "token" queues only (every queue the request
    names must be one), over TLS unless they all allow plain ``ipp://``; a revoked or
    unknown secret is 401 (the client may then ask for a password)."""
    auth = ctx.authenticator
    queues = target_queues(ctx, request.path, msg)
    if auth is None or not queues or not queues <= auth.urls:
        return not_served()
    if not request.secure and not queues <= auth.plain:
        return tls_required()
    found = await auth.verify_url(secret)
    return unauthorized() if found is None else found
