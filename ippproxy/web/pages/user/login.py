"""The user web app's sign-in: ``GET /user/login`` shows the form, ``POST /user/login``
checks the name and password (``web.auth.log_in``: internal users against their argon2
hash, external users by an LDAP bind where the directory is configured; the same rate
limit as the admin login), then the TOTP code of a user who turned two-step sign-in on
(services/totp.py), and sets the session cookie; ``POST /user/logout`` ends it.

A failed sign-in stays on the page with the reason (wrong name or password; too many
failures, with how long to wait from ``Retry-After``, RFC 6585 §4) and the name typed,
never the password.
"""

from __future__ import annotations

import math

from aiohttp import web

from ippproxy.services.actor import Actor
from ippproxy.web.auth import (
    clear_session_cookie,
    log_in,
    log_out,
    mark_public,
    set_session_cookie,
)
from ippproxy.web.identity import actor_of
from ippproxy.web.pages.guard import checked_form
from ippproxy.web.pages.user.guard import render, user_page
from ippproxy.web.state import services_of

HOME = "/user/"


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a page of the user app, never another site."""
    if (target and target.startswith("/user/") and "//" not in target
            and "\\" not in target and not target.startswith("/user/login")):
        return target
    return HOME


def _page(request: web.Request, *, name: str, target: str, message: str,
          status: int = 200) -> web.Response:
    return render(request, "login.html", None, "login",
                  {"name": name, "next": target, "message": message}, status=status)


@mark_public
async def login_page(request: web.Request) -> web.StreamResponse:
    target = safe_next(request.query.get("next"))
    if actor_of(request) is not None:
        raise web.HTTPSeeOther(target)
    return _page(request, name="", target=target, message="")


def _reason(response: web.Response) -> str:
    if response.status == 429:
        wait = response.headers.get("Retry-After", "")
        seconds = int(wait) if wait.isdigit() else 60
        return (f"Too many failed sign-ins. Try again in {math.ceil(seconds / 60)} "
                f"minute{'s' if seconds > 60 else ''}.")
    if response.status == 503:
        return ("The user directory cannot be reached to check your password. Try again "
                "in a minute.")
    if response.status == 401 and "second-factor-needed" in (response.text or ""):
        return "Enter the code of your authenticator app as well."
    return "Wrong name or password. (With two-step sign-in on: a wrong code.)"


@mark_public
async def login_submit(request: web.Request) -> web.StreamResponse:
    form = await request.post()
    name, password, target = form.get("username"), form.get("password"), form.get("next")
    code = form.get("code")
    typed = name[:255] if isinstance(name, str) else ""
    goal = safe_next(target if isinstance(target, str) else None)
    if (not isinstance(name, str) or not isinstance(password, str) or not name
            or not password or len(name) > 255 or len(password) > 1024
            or "\x00" in password):
        return _page(request, name=typed, target=goal, status=422,
                     message="Enter your name and password.")
    result = await log_in(request, name, password, code if isinstance(code, str) else None)
    if isinstance(result, web.Response):
        page = _page(request, name=typed, target=goal, message=_reason(result),
                     status=result.status)
        if "Retry-After" in result.headers:
            page.headers["Retry-After"] = result.headers["Retry-After"]
        return page
    sid, _, _ = result
    response = web.Response(status=303, headers={"Location": goal})
    set_session_cookie(response, sid, services_of(request).sessions.settings.absolute)
    return response


@user_page
async def logout(request: web.Request, actor: Actor) -> web.StreamResponse:
    await checked_form(request)
    await log_out(request)
    response = web.Response(status=303, headers={"Location": "/user/login"})
    clear_session_cookie(response)
    return response
