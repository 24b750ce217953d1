"""Who may use a page, and the CSRF check of every form that changes something.

Deny by default: a page without a proven ``Actor`` answers 401 (the login page is the
authentication layer's). The authentication middleware keeps the session's CSRF token
under ``CSRF_KEY``; a state-changing request must send it back (form field
``csrf_token`` or header ``X-CSRF-Token``), compared in constant time, or it is refused
with 403 before anything happens (OWASP CSRF Prevention, synchronizer token pattern).
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

import aiohttp_jinja2
from aiohttp import web

from ippproxy.services.actor import Actor
from ippproxy.services.errors import Conflict, Forbidden, Invalid, NotFound, ServiceError
from ippproxy.web.identity import actor_of

CSRF_KEY = "ippproxy.csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def csrf_token(request: web.Request) -> str:
    token = request.get(CSRF_KEY)
    return token if isinstance(token, str) else ""


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
    sent = form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER, "")
    expected = csrf_token(request)
    if not (isinstance(sent, str) and expected
            and hmac.compare_digest(sent.encode(), expected.encode())):
        raise Forbidden("the form's CSRF token is missing or wrong; reload the page")
    return {k: v for k, v in form.items() if isinstance(v, str)}
