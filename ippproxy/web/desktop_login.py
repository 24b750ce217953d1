"""``POST /api/v1/session/desktop``'s login: a session for the desktop user, proven by the
peer credentials of the local Unix socket (services/desktop_login.py says who and why).

Refused with an RFC 9457 problem, 403, when the server does not trust desktop users
(``users.trust_desktop_user`` off), when the request did not come over the local socket
(TCP proves no local account, not even from 127.0.0.1), or when the uid names no enabled
user. A user who turned two-step sign-in on gets the password login's 401
``second-factor-needed`` and sends the code (RFC 6238) with the same request again; wrong
codes are throttled and audited as wrong passwords are (services/throttle.py), keyed by the
user and by the peer's uid in place of an address.
"""

from __future__ import annotations

import asyncio
import math

from aiohttp import web

from ippproxy.services.actor import Actor, Via
from ippproxy.services.auditsink import entry
from ippproxy.services.errors import Forbidden
from ippproxy.services.sessions import Session
from ippproxy.web.auth import second_factor
from ippproxy.web.problem import problem
from ippproxy.web.state import WebServices, services_of

METHOD = "desktop"   # the audit entries' "method"


async def desktop_log_in(request: web.Request, code: str | None
                         ) -> tuple[str, Session, Actor] | web.Response:
    """A new desktop session (user rights only), or the problem to answer."""
    svc = services_of(request)
    if svc.desktop is None:
        return problem(403, "this server does not trust desktop logins "
                            "(users.trust_desktop_user is off): log in with your name and "
                            "password", kind="desktop-login-off")
    uid = svc.peer_uid(request)
    if uid is None:
        return problem(403, "a desktop login comes over the server's local socket "
                            "(server.unix_socket) only: a network connection proves no "
                            "desktop user", kind="desktop-login-not-local")
    address = f"uid:{uid}"
    try:
        principal = await asyncio.to_thread(svc.desktop.principal, uid)
    except Forbidden as e:
        await _failed(svc, Actor(address, Via.SESSION), address, e.detail)
        return problem(403, e.detail, kind="desktop-user-refused")
    actor = Actor(principal.name, Via.SESSION)
    if not await second_factor(svc, principal.name, None):
        if not code:
            return problem(401, "this account asks for its two-step sign-in code",
                           kind="second-factor-needed")
        # Only a code is guessed here: the throttle is asked before one is checked, and
        # not otherwise (wrong passwords sent over the network for this user must not lock
        # the desktop user out).
        wait = await asyncio.to_thread(svc.throttle.retry_after, principal.name, address)
        if wait > 0:
            return problem(429, "too many failed logins; try again later",
                           kind="login-throttled",
                           headers={"Retry-After": str(math.ceil(wait))})
        if not await second_factor(svc, principal.name, code):
            await asyncio.to_thread(svc.throttle.failed, principal.name, address)
            await _failed(svc, actor, address, "wrong code")
            return problem(401, "wrong two-step sign-in code", kind="login-failed")
        await asyncio.to_thread(svc.throttle.succeeded, principal.name)
    sid, session = await asyncio.to_thread(svc.sessions.create, principal, address,
                                           desktop=True)
    await asyncio.to_thread(svc.admins.audit.record, entry(
        actor, "session.login", f"user:{actor.name}", None,
        {"address": address, "method": METHOD}))
    return sid, session, actor


async def _failed(svc: WebServices, actor: Actor, address: str, reason: str) -> None:
    await asyncio.to_thread(svc.admins.audit.record, entry(
        actor, "session.login-failed", f"user:{actor.name}", None,
        {"address": address, "method": METHOD, "reason": reason}))
