"""``/user/security``: two-step sign-in (TOTP, RFC 6238; services/totp.py). Turning it
on makes a secret, shown as a QR code of its ``otpauth://`` URI (and as text, to type in
by hand); a code from the app confirms it, and from then on every sign-in asks for a
code. Turning it off needs a current code too."""

from __future__ import annotations

import asyncio

from aiohttp import web

from ippproxy.services.actor import Actor
from ippproxy.services.errors import Invalid, NotFound
from ippproxy.services.totp import Totp
from ippproxy.web.pages.guard import checked_form
from ippproxy.web.pages.user.guard import render, user_page
from ippproxy.web.pages.user.qr import qr_svg
from ippproxy.web.state import services_of


def _service(request: web.Request) -> Totp:
    svc = services_of(request).totp
    if svc is None:
        raise NotFound("two-step sign-in", "not offered by this server")
    return svc


async def _page(request: web.Request, actor: Actor, message: str = "",
                status: int = 200) -> web.Response:
    svc = _service(request)
    state = await asyncio.to_thread(svc.state, actor)
    enrolment = await asyncio.to_thread(svc.enrolment, actor) if state.pending else None
    return render(request, "security.html", actor, "security", {
        "state": state, "enrolment": enrolment, "message": message,
        "qr": qr_svg(enrolment.uri, "totp-qr") if enrolment else None}, status=status)


@user_page
async def security(request: web.Request, actor: Actor) -> web.StreamResponse:
    return await _page(request, actor)


@user_page
async def change(request: web.Request, actor: Actor) -> web.StreamResponse:
    form = await checked_form(request)
    svc = _service(request)
    action = request.match_info["action"]
    try:
        if action == "begin":
            await asyncio.to_thread(svc.begin, actor)
        elif action == "confirm":
            await asyncio.to_thread(svc.confirm, actor, form.get("code", ""))
        else:
            await asyncio.to_thread(svc.disable, actor, form.get("code", ""))
    except Invalid as e:
        return await _page(request, actor, e.detail, status=422)
    raise web.HTTPSeeOther("/user/security")
