"""``/api/v1/me/...``: what a logged-in user does for themselves (issue 17). Any proven
actor may call these (``section=None``); each acts on the caller's own objects only (the
service checks the owner again).

``/me/printer-urls``: the user's personal printer URLs (services/printer_urls.py). Making
one answers its secret once, with the ``ipps://`` URL of every queue that serves personal
URLs, written with the host and port the request came to (the web side and IPPS share one
port).
"""

from __future__ import annotations

import asyncio
import re
from typing import Annotated, Any

from aiohttp import web
from pydantic import Field

from ippproxy.services.actor import Actor, Via
from ippproxy.services.errors import Forbidden, NotFound
from ippproxy.services.printer_urls import PrinterUrlInfo, PrinterUrls
from ippproxy.web.api import Call, Operation
from ippproxy.web.models import Printable, Request, Response, Time

_HOST = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]{1,253})(:[0-9]{1,5})?$")


class PrinterUrlCreate(Request):
    name: Annotated[str, Field(min_length=1, max_length=64,
                               description="the device it is for: \"phone\", \"laptop\""),
                    Printable]


class PrinterUrlOut(Response):
    id: str
    name: str
    created_at: Time
    last_used_at: Time | None
    revoked_at: Time | None


class PrinterUrlCreated(PrinterUrlOut):
    secret: str = Field(description="shown this once, stored hashed")
    urls: list[str] = Field(description="ipps:// URL of each queue that serves personal URLs")


class PrinterUrlList(Response):
    items: list[PrinterUrlOut]


class PrinterUrlQuery(Request):
    include_revoked: bool = False


def user_of(call: Call) -> Actor:
    """The logged-in user; an API token is a script, not a user (403)."""
    actor = call.who()
    if actor.via == Via.TOKEN:
        raise Forbidden("these are a user's own routes: log in as the user")
    return actor


def _service(call: Call) -> PrinterUrls:
    svc = call.services.printer_urls
    if svc is None:   # no user store (accounting off): nobody has personal URLs
        raise NotFound("printer URL service", "me")
    return svc


def _out(u: PrinterUrlInfo) -> dict[str, Any]:
    return {"id": u.id, "name": u.name, "created_at": u.created_at,
            "last_used_at": u.last_used_at, "revoked_at": u.revoked_at}


def _authority(request: web.Request) -> str:
    host = request.headers.get("Host", "")
    return host if _HOST.match(host) else f"{request.url.host}:{request.url.port}"


async def create_printer_url(call: Call) -> Any:
    body: PrinterUrlCreate = call.body
    svc = _service(call)
    me = user_of(call)
    info, secret = await asyncio.to_thread(svc.create, me, me.name, body.name)
    host = _authority(call.request)
    return {**_out(info), "secret": secret,
            "urls": [f"ipps://{host}/printers/{q}/u/{secret}" for q in svc.offered()]}


async def list_printer_urls(call: Call) -> Any:
    q: PrinterUrlQuery = call.query
    me = user_of(call)
    found = await asyncio.to_thread(_service(call).list, me, me.name,
                                    include_revoked=q.include_revoked)
    return {"items": [_out(u) for u in found]}


async def revoke_printer_url(call: Call) -> Any:
    me = user_of(call)
    return _out(await asyncio.to_thread(_service(call).revoke, me, me.name,
                                        call.path["id"]))


OPERATIONS = (
    Operation("POST", "/me/printer-urls", create_printer_url,
              "Make a personal printer URL (its secret shown once)", "me",
              body=PrinterUrlCreate, response=PrinterUrlCreated, status=201),
    Operation("GET", "/me/printer-urls", list_printer_urls, "Your personal printer URLs", "me",
              query=PrinterUrlQuery, response=PrinterUrlList),
    Operation("DELETE", "/me/printer-urls/{id}", revoke_printer_url,
              "Revoke one of your personal printer URLs", "me", response=PrinterUrlOut,
              path_params={"id": "the URL's id"}),
)
