"""``GET /user/client``: what the user client ``ippproxy-client`` is, how to install it
and how to sign in with it (on the server's own machine, where the admin trusts desktop
users, without a password: ``--desktop-login``); ``GET /user/client/{filename}``: the
wheel itself (services/clientwheel.py), for a signed-in user."""

from __future__ import annotations

import asyncio

from aiohttp import web

from ippproxy.services.actor import Actor
from ippproxy.services.clientwheel import ClientWheel
from ippproxy.services.errors import NotFound
from ippproxy.web.pages.user.guard import render, user_page
from ippproxy.web.pages.user.urls import authority
from ippproxy.web.state import services_of

WHEEL = ClientWheel()


@user_page
async def client_page(request: web.Request, actor: Actor) -> web.StreamResponse:
    wheel = await asyncio.to_thread(WHEEL.get)
    desktop = services_of(request).desktop   # None: users.trust_desktop_user is off
    return render(request, "client.html", actor, "client", {
        "wheel": wheel, "size_kib": (len(wheel.data) + 1023) // 1024,
        "server": f"https://{authority(request)}",
        "desktop_socket": desktop.socket if desktop is not None else None})


@user_page
async def download(request: web.Request, actor: Actor) -> web.StreamResponse:
    wheel = await asyncio.to_thread(WHEEL.get)
    if request.match_info["filename"] != wheel.filename:
        raise NotFound("file", request.match_info["filename"][:100])
    return web.Response(body=wheel.data, content_type="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{wheel.filename}"',
        "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})
