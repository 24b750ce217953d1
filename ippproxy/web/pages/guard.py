"""Who may use a page, and the CSRF check of every form that changes something.

Deny by default: the authentication middleware (``web.auth``) answers a request that
proves nobody before any page runs (a browser is sent to the login page); a page still
answers 401 without a proven ``Actor``. A state-changing request must send the session's
CSRF token back (form field ``csrf_token`` or header ``X-CSRF-Token``), compared in
constant time, or it is refused with 403 before anything happens (OWASP CSRF Prevention,
synchronizer token pattern). The middleware checks it first; ``checked_form`` checks it
again where the page reads the form. An API token (``Authorization: Bearer``) is never
sent by a browser on its own, so a request proven by one needs none.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

import aiohttp_jinja2
from aiohttp import web

from ippproxy.services.actor import Actor
from ippproxy.services.errors import Conflict, Forbidden, Invalid, NotFound, ServiceError
from ippproxy.web.auth import CSRF_FIELD, CSRF_HEADER, session_of
from ippproxy.web.identity import actor_of

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def csrf_token(request: web.Request) -> str:
    """The session's CSRF token ("" for a request proven by an API token)."""
    found = session_of(request)
    return found[1].csrf if found is not None else ""


def _error(request: web.Request, status: int, title: str, detail: str) -> web.Response:
    response = aiohttp_jinja2.render_template(
        "error.html", request, {"title": title, "detail": detail, "actor": actor_of(request),
                                "csrf": csrf_token(request)}, status=status)
    return response


_STATUS: tuple[tuple[type[ServiceError], int, str], ...] = (
    (Forbidden, 403, "Not allowed"), (NotFound, 404, "Not found"),
    (Invalid, 422, "Invalid request"), (Conflict, 409, "Not possible now"))


def page(handler: Callable[[web.Request, Actor], Awaitable[web.StreamResponse]]) -> Handler:
    """An admin page: 401 without an actor, the services' errors as error pages."""

    async def wrapped(request: web.Request) -> web.StreamResponse:
        actor = actor_of(request)
        if actor is None:
            return _error(request, 401, "Sign in needed",
                          "Sign in as an administrator to see this page.")
        try:
            return await handler(request, actor)
        except ServiceError as e:
            for kind, status, title in _STATUS:
                if isinstance(e, kind):
                    return _error(request, status, title, e.detail)
            raise

    return wrapped


async def checked_form(request: web.Request) -> dict[str, str]:
    """The posted form, after its CSRF token matched the session's (else 403)."""
    form = await request.post()
    if session_of(request) is not None or actor_of(request) is None:
        sent = form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER, "")
        expected = csrf_token(request)
        if not (isinstance(sent, str) and expected
                and hmac.compare_digest(sent.encode(), expected.encode())):
            raise Forbidden("the form's CSRF token is missing or wrong; reload the page")
    return {k: v for k, v in form.items() if isinstance(v, str)}
