"""Who may use a page of the user web app: a user proven by their session.

Deny by default: the authentication middleware (``web.auth``) sends a browser that proves
nobody to ``/user/login`` before any page runs; a page still answers 401 without a proven
``Actor``, and 403 for an API token (a script, not a user). Every page shows the
actor's own objects only: the services check the owner again, and another user's job is
404, the same as a job that does not exist. State-changing forms carry the session's
CSRF token (``pages.guard.checked_form``, checked by the middleware first).
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from ippproxy.services.actor import Actor, Section, Via
from ippproxy.services.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    ServiceError,
    Throttled,
)
from ippproxy.web.identity import actor_of
from ippproxy.web.pages.guard import csrf_token

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
UserHandler = Callable[[web.Request, Actor], Awaitable[web.StreamResponse]]

_STATUS: tuple[tuple[type[ServiceError], int, str], ...] = (
    (Forbidden, 403, "Not allowed"), (NotFound, 404, "Not found"),
    (Invalid, 422, "Invalid request"), (Conflict, 409, "Not possible now"),
    (Throttled, 429, "Too many tries"))


def is_admin(actor: Actor) -> bool:
    """Whether the admin app has anything for this actor (then the nav links to it)."""
    return actor.superuser or any(actor.access(s) for s in Section)


def render(request: web.Request, template: str, actor: Actor | None, nav: str,
           context: dict[str, Any], status: int = 200) -> web.Response:
    response = aiohttp_jinja2.render_template(f"user/{template}", request, {
        "actor": actor, "csrf": csrf_token(request), "nav": nav,
        "admin_link": actor is not None and is_admin(actor), **context}, status=status)
    response.headers["Cache-Control"] = "no-store"
    return response


def error(request: web.Request, status: int, title: str, detail: str) -> web.Response:
    return render(request, "error.html", actor_of(request), "",
                  {"title": title, "detail": detail}, status=status)


def user_page(handler: UserHandler) -> Handler:
    async def wrapped(request: web.Request) -> web.StreamResponse:
        actor = actor_of(request)
        if actor is None:
            return error(request, 401, "Sign in needed", "Sign in to see this page.")
        if actor.via == Via.TOKEN:
            return error(request, 403, "Not allowed",
                         "These are a user's own pages: sign in as the user.")
        try:
            return await handler(request, actor)
        except ServiceError as e:
            for kind, status, title in _STATUS:
                if isinstance(e, kind):
                    page = error(request, status, title, e.detail)
                    if isinstance(e, Throttled):   # how long to wait (RFC 6585 §4)
                        page.headers["Retry-After"] = str(max(1, math.ceil(e.retry_after)))
                    return page
            raise

    return wrapped
