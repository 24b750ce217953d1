"""The login page: ``GET /admin/login`` shows the form, ``POST /admin/login`` is
``web.auth.login_form`` (the password check under the rate limit, the session cookie).

A browser's failed login stays on the page: the form comes back with the reason (wrong
name or password; too many failures, with how long to wait from ``Retry-After``, RFC 6585
§4) and the name typed, never the password. A script posting the form (no ``text/html``
in ``Accept``) gets the problem JSON as before.
"""

from __future__ import annotations

import math

import aiohttp_jinja2
from aiohttp import web

from ippproxy.web.auth import login_form, mark_public, safe_next
from ippproxy.web.identity import actor_of


def _render(request: web.Request, *, name: str, target: str, message: str,
            status: int = 200) -> web.Response:
    response = aiohttp_jinja2.render_template("login.html", request, {
        "actor": None, "csrf": "", "nav": "", "name": name, "next": target,
        "message": message}, status=status)
    response.headers["Cache-Control"] = "no-store"
    return response


@mark_public
async def login_page(request: web.Request) -> web.StreamResponse:
    target = safe_next(request.query.get("next"))
    if actor_of(request) is not None:
        raise web.HTTPSeeOther(target)
    return _render(request, name="", target=target, message="")


def _reason(response: web.Response) -> str:
    if response.status == 429:
        wait = response.headers.get("Retry-After", "")
        seconds = int(wait) if wait.isdigit() else 60
        return (f"Too many failed logins. Try again in {math.ceil(seconds / 60)} "
                f"minute{'s' if seconds > 60 else ''}.")
    if response.status == 401 and "second-factor-needed" in (response.text or ""):
        return "Enter the code of your authenticator app as well."
    if response.status == 401:
        return "Wrong name or password."
    if response.status == 503:
        return ("The user directory cannot be reached to check your password. Try again "
                "in a minute.")
    return "Enter your name and password."


@mark_public
async def login_submit(request: web.Request) -> web.StreamResponse:
    response: web.StreamResponse = await login_form(request)
    if response.status < 400 or "text/html" not in request.headers.get("Accept", ""):
        return response
    assert isinstance(response, web.Response)
    form = await request.post()
    name, target = form.get("username"), form.get("next")
    page = _render(request, name=name[:255] if isinstance(name, str) else "",
                   target=safe_next(target if isinstance(target, str) else None),
                   message=_reason(response), status=response.status)
    if "Retry-After" in response.headers:
        page.headers["Retry-After"] = response.headers["Retry-After"]
    return page
