"""The web cashier's pages (``services.cashier``), for users with the web-cashier role:
``GET /cashier`` finds a user (id, name, card or ID number) and shows the deposit form
with a one-time token; ``POST /cashier/deposit`` deposits once per token (a form sent
twice shows the same receipt) and goes on to ``GET /cashier/receipts/{token}``, a
printable receipt. A refused amount (letters, negative, too many decimals) comes back
beside its field, nothing deposited."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from ippproxy.services.actor import Actor
from ippproxy.services.cashier import Cashier, new_token
from ippproxy.services.errors import Invalid, NotFound
from ippproxy.web.pages.forms import page_csrf, posted_form
from ippproxy.web.pages.guard import page
from ippproxy.web.state import services_of


def _cashier(request: web.Request) -> Cashier:
    svc = services_of(request).cashier
    if svc is None:
        raise NotFound("page", "cashier (accounting is off)")
    return svc


def _render(request: web.Request, template: str, actor: Actor, context: dict[str, Any],
            status: int = 200) -> web.Response:
    response = aiohttp_jinja2.render_template(template, request, {
        "actor": actor, "csrf": page_csrf(request), "errors": {}, **context}, status=status)
    response.headers["Cache-Control"] = "no-store"
    return response


async def _form(request: web.Request, actor: Actor, username: str, *, token: str = "",
                shown: dict[str, str] | None = None, errors: dict[str, str] | None = None,
                status: int = 200) -> web.Response:
    svc = _cashier(request)
    user = await asyncio.to_thread(svc.user, actor, username)
    return _render(request, "cashier.html", actor, {
        "q": "", "matches": [], "user": user, "token": token or new_token(),
        "shown": shown or {}, "errors": errors or {}}, status)


@page
async def cashier_page(request: web.Request, actor: Actor) -> web.StreamResponse:
    svc = _cashier(request)
    username = request.query.get("user", "").strip()
    if username:
        return await _form(request, actor, username[:255])
    q = request.query.get("q", "").strip()[:255]
    matches = await asyncio.to_thread(svc.find, actor, q) if q else []
    if not q:  # a cashier who is not one is told on the first page, not at the deposit
        await asyncio.to_thread(svc.find, actor, "")
    return _render(request, "cashier.html", actor, {"q": q, "matches": matches,
                                                    "user": None, "shown": {}})


@page
async def cashier_deposit(request: web.Request, actor: Actor) -> web.StreamResponse:
    form = await posted_form(request)
    username, token = form.get("user", ""), form.get("token", "")
    try:
        receipt = await asyncio.to_thread(
            _cashier(request).deposit, actor, username, form.get("amount", ""),
            form.get("note", ""), token)
    except Invalid as e:
        return await _form(request, actor, username, token=token,
                           shown={"amount": form.get("amount", ""),
                                  "note": form.get("note", "")},
                           errors={e.field: e.reason}, status=422)
    raise web.HTTPSeeOther(f"/cashier/receipts/{receipt.token}")


@page
async def cashier_receipt(request: web.Request, actor: Actor) -> web.StreamResponse:
    r = await asyncio.to_thread(_cashier(request).receipt, actor,
                                request.match_info["token"][:64])
    return _render(request, "cashier_receipt.html", actor, {"r": asdict(r)})
