"""Authentication of the web side, denied by default, and the login and logout of a session.

Theory of operation. ``auth_middleware`` runs for every request the web side owns
(``scope.in_scope``: ``/api`` and ``/admin``, not IPP). It proves who is asking from exactly
one credential: an ``Authorization: Bearer`` API token (RFC 6750 §2.1), or, with no
``Authorization`` header, the session cookie. Any other scheme (``Basic``, ...) proves nobody
(CVE-2025-58060 class); a bad token does not fall back to the cookie. The proven ``Actor``
is stored with ``identity.set_actor``. Then:

* a handler not marked public answers 401 (problem JSON, ``WWW-Authenticate: Bearer``)
  when nobody was proven: new routes are closed until someone opens them (CVE-2023-27350);
  only a browser asking for an admin page (``GET``/``HEAD`` under ``/admin`` with
  ``text/html`` in ``Accept``) is sent to the login page instead (303, the page it wanted
  in ``next``); scripts and the API keep their 401;
* a state-changing request (not GET, HEAD, OPTIONS) on a session must carry the session's
  CSRF token, in the ``X-CSRF-Token`` header (htmx, scripts) or the ``csrf_token`` form
  field, compared in constant time; otherwise 403. Bearer tokens are not sent by browsers
  on their own, so they need none.

Which section a route needs is checked where the route is declared (``api.Operation``) and
again by the service it calls.
"""

from __future__ import annotations

import asyncio
import hmac
import math
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from aiohttp import web

from ippproxy.accounting.identity import canonical_name
from ippproxy.services.actor import Access, Actor, Section, Via
from ippproxy.services.auditsink import entry
from ippproxy.services.errors import Unavailable
from ippproxy.services.sessions import Session
from ippproxy.web.identity import PUBLIC, actor_of, set_actor
from ippproxy.web.problem import problem
from ippproxy.web.scope import in_scope
from ippproxy.web.state import WebServices, services_of

COOKIE = "ippproxy_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SESSION_KEY = "ippproxy.session"
LOGIN_PAGE = "/admin/login"
USER_LOGIN_PAGE = "/user/login"  # the user web app's own login page (web/pages/user/)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def mark_public(fn: Any) -> Any:
    """Open a handler to requests that prove nobody (login, static files)."""
    setattr(fn, PUBLIC, True)
    return fn


def is_public(request: web.Request) -> bool:
    return bool(getattr(request.match_info.handler, PUBLIC, False))


def session_of(request: web.Request) -> tuple[str, Session] | None:
    found = request.get(SESSION_KEY)
    return found if isinstance(found, tuple) else None


async def _prove(request: web.Request, svc: WebServices) -> Actor | None:
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            return None
        return await asyncio.to_thread(svc.tokens.authenticate, secret.strip())
    sid = request.cookies.get(COOKIE)
    if not sid:
        return None
    found = await asyncio.to_thread(_session_actor, svc, sid)
    if found is None:
        return None
    session, actor = found
    request[SESSION_KEY] = (sid, session)
    return actor


def _session_actor(svc: WebServices, sid: str) -> tuple[Session, Actor] | None:
    """The session and its principal's rights now, in one trip to a worker thread (every
    request on a session: a popup's answer under load, issue 17)."""
    session = svc.sessions.lookup(sid)
    if session is None:
        return None
    actor = svc.admins.actor(session.principal, Via.SESSION)
    if actor is not None and session.desktop:
        actor = Actor(actor.name, Via.SESSION)  # user rights only (services/desktop_login.py)
    return None if actor is None else (session, actor)


async def _csrf_ok(request: web.Request, session: Session) -> bool:
    given = request.headers.get(CSRF_HEADER)
    if given is None and request.content_type in ("application/x-www-form-urlencoded",
                                                  "multipart/form-data"):
        form = await request.post()
        value = form.get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    return given is not None and hmac.compare_digest(given.encode(), session.csrf.encode())


async def may_scrape(request: web.Request) -> bool:
    """``/metrics`` for an admin (session or API token) who may read the printers' section;
    the scrape token of ``server.metrics_token`` is checked before this."""
    actor = await _prove(request, services_of(request))
    return actor is not None and actor.may(Section.PRINTERS, Access.READ)


def wants_page(request: web.Request) -> bool:
    """A browser navigating to an admin page (not the API, not a script, not IPP)."""
    return (request.method in ("GET", "HEAD")
            and request.path.startswith(("/admin", "/user", "/cashier"))
            and "text/html" in request.headers.get("Accept", ""))


def safe_next(target: str | None) -> str:
    """Where to go after logging in: an admin page of this server, never another site."""
    if (target and target.startswith(("/admin", "/cashier")) and "//" not in target
            and "\\" not in target
            and not target.startswith(LOGIN_PAGE)):
        return target
    return "/admin"


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not in_scope(request):
        return await handler(request)
    svc = services_of(request)
    actor = await _prove(request, svc)
    public = is_public(request)
    if actor is not None:
        set_actor(request, actor)
        found = session_of(request)
        if (found is not None and request.method not in SAFE_METHODS and not public
                and not await _csrf_ok(request, found[1])):
            return problem(403, f"a state-changing request needs the session's CSRF token "
                                f"({CSRF_HEADER} header or {CSRF_FIELD} field)", kind="csrf")
    elif not public:
        if wants_page(request):
            login = USER_LOGIN_PAGE if request.path.startswith("/user") else LOGIN_PAGE
            return web.Response(status=303, headers={
                "Location": f"{login}?next={quote(request.path_qs, safe='')}",
                "Cache-Control": "no-store"})
        return problem(401, "log in or send an API token", kind="unauthenticated",
                       headers={"WWW-Authenticate": 'Bearer realm="ippproxy"'})
    return await handler(request)


def set_session_cookie(response: web.StreamResponse, sid: str, max_age: float) -> None:
    # Secure always: the admin app is served over HTTPS on the IPP port (issue 13 §1).
    response.set_cookie(COOKIE, sid, max_age=int(max_age), path="/", secure=True,
                        httponly=True, samesite="Strict")


def clear_session_cookie(response: web.StreamResponse) -> None:
    response.del_cookie(COOKIE, path="/", secure=True, httponly=True, samesite="Strict")


async def second_factor(svc: WebServices, principal: str, code: str | None) -> bool:
    """True unless the principal turned TOTP on and ``code`` is not its current code."""
    if svc.totp is None or not await asyncio.to_thread(svc.totp.required, principal):
        return True
    return bool(code) and await asyncio.to_thread(svc.totp.verify, principal, code or "")


async def log_in(request: web.Request, name: str, password: str, code: str | None = None
                 ) -> tuple[str, Session, Actor] | web.Response:
    """Check the password (and the TOTP code of a principal who turned it on) under the
    rate limit; a new session, or the problem to answer."""
    svc = services_of(request)
    address = request.remote or ""
    try:
        key = canonical_name(name)
    except ValueError:  # not a name anyone has: throttled under a printable form of it
        key = name[:255].encode("unicode_escape").decode("ascii")[:255]
    wait = await asyncio.to_thread(svc.throttle.retry_after, key, address)
    if wait > 0:
        return problem(429, "too many failed logins; try again later", kind="login-throttled",
                       headers={"Retry-After": str(math.ceil(wait))})
    try:
        principal = await asyncio.to_thread(svc.admins.authenticate, name, password)
    except Unavailable as e:  # not a wrong password: not counted, said plainly
        return problem(503, e.detail, kind="directory-unavailable",
                       headers={"Retry-After": "30"})
    actor = None if principal is None else await asyncio.to_thread(
        svc.admins.actor, principal, Via.SESSION)
    if principal is not None and actor is not None and not code and \
            not await second_factor(svc, principal.name, None):
        # The password was right and the account asks for its code: said so, so that a
        # client (ippproxy-client, client/login.py) asks for it and sends the login again.
        return problem(401, "this account asks for its two-step sign-in code",
                       kind="second-factor-needed")
    if principal is not None and actor is not None and \
            not await second_factor(svc, principal.name, code):
        actor = None    # the password was right, the code was not: a failed login
    if principal is None or actor is None:
        await asyncio.to_thread(svc.throttle.failed, key, address)
        failed = entry(Actor(key, Via.SESSION), "session.login-failed", f"user:{key}", None,
                       {"address": address})
        await asyncio.to_thread(svc.admins.audit.record, failed)
        return problem(401, "wrong name or password", kind="login-failed")
    await asyncio.to_thread(svc.throttle.succeeded, key)
    sid, session = await asyncio.to_thread(svc.sessions.create, principal, address)
    await asyncio.to_thread(svc.admins.audit.record, entry(
        actor, "session.login", f"user:{actor.name}", None, {"address": address}))
    return sid, session, actor


async def log_out(request: web.Request) -> None:
    found = session_of(request)
    actor = actor_of(request)
    if found is not None and actor is not None:
        svc = services_of(request)
        await asyncio.to_thread(svc.sessions.end, found[0])
        await asyncio.to_thread(svc.admins.audit.record,
                                entry(actor, "session.logout", f"user:{actor.name}"))


@mark_public
async def login_form(request: web.Request) -> web.StreamResponse:
    """POST /admin/login (the login page's form): a session cookie and on to /admin."""
    form = await request.post()
    name, password, code = form.get("username"), form.get("password"), form.get("code")
    if (not isinstance(name, str) or not isinstance(password, str) or not name
            or len(name) > 255 or len(password) > 1024 or "\x00" in password):
        return problem(422, "username and password are required",
                       errors=[{"field": "username", "message": "required"},
                               {"field": "password", "message": "required"}])
    result = await log_in(request, name, password, code if isinstance(code, str) else None)
    if isinstance(result, web.Response):
        return result
    sid, _, _ = result
    target = form.get("next")
    response = web.Response(status=303, headers={
        "Location": safe_next(target if isinstance(target, str) else None)})
    set_session_cookie(response, sid, services_of(request).sessions.settings.absolute)
    return response


async def logout_form(request: web.Request) -> web.StreamResponse:
    """POST /admin/logout (with the CSRF field): the session ends, back to the login page."""
    await log_out(request)
    response = web.Response(status=303, headers={"Location": "/admin/login"})
    clear_session_cookie(response)
    return response


def add_auth_routes(app: web.Application) -> None:
    # POST /admin/login is the login page's (web/pages/login.py): it calls login_form.
    app.router.add_post("/admin/logout", logout_form)
