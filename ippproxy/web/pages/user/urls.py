"""``/user/printers``: the user's personal printer URLs (services/printer_urls.py). A user
names one per device ("phone", "laptop"); making one shows its ``ipps://`` URL of every
queue that serves personal URLs, each with a QR code, on that answer only: the secret is
stored as its SHA-256, so nobody, the server included, can show it again. Revoking one
stops it proving anyone from then on."""

from __future__ import annotations

import asyncio
import re

from aiohttp import web

from ippproxy.services.actor import Actor
from ippproxy.services.errors import NotFound
from ippproxy.services.printer_urls import PrinterUrls
from ippproxy.web.pages.guard import checked_form
from ippproxy.web.pages.user.guard import render, user_page
from ippproxy.web.pages.user.qr import qr_svg
from ippproxy.web.state import services_of

_HOST = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]{1,253})(:[0-9]{1,5})?$")


def authority(request: web.Request) -> str:
    """host:port the request came to (the web side and IPPS share one port)."""
    host = request.headers.get("Host", "")
    return host if _HOST.match(host) else f"{request.url.host}:{request.url.port}"


def _service(request: web.Request) -> PrinterUrls:
    svc = services_of(request).printer_urls
    if svc is None:
        raise NotFound("printer URL service", "accounting is off on this server")
    return svc


async def _listing(request: web.Request, actor: Actor,
                   created: dict[str, object] | None = None) -> web.Response:
    svc = _service(request)
    urls = await asyncio.to_thread(svc.list, actor, actor.name)
    return render(request, "printers.html", actor, "printers",
                  {"urls": urls, "queues": svc.offered(), "created": created})


@user_page
async def printer_urls(request: web.Request, actor: Actor) -> web.StreamResponse:
    return await _listing(request, actor)


@user_page
async def create(request: web.Request, actor: Actor) -> web.StreamResponse:
    form = await checked_form(request)
    svc = _service(request)
    info, secret = await asyncio.to_thread(svc.create, actor, actor.name,
                                           form.get("name", ""))
    host = authority(request)
    made = [(q, f"ipps://{host}/printers/{q}/u/{secret}") for q in svc.offered()]
    codes = [(q, url, qr_svg(url, f"qr-{i}")) for i, (q, url) in enumerate(made)]
    return await _listing(request, actor, created={"info": info, "codes": codes})


@user_page
async def revoke(request: web.Request, actor: Actor) -> web.StreamResponse:
    await checked_form(request)
    await asyncio.to_thread(_service(request).revoke, actor, actor.name,
                            request.match_info["id"])
    raise web.HTTPSeeOther("/user/printers")
