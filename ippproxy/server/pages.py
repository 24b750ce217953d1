"""GET resources the printer attributes point at: printer-more-info pages, printer-icons and
printer-strings-uri.

Tiny and static on purpose (the web app of a later issue replaces the pages). The icon is a
generated one-colour PNG (RFC 2083 chunks written with zlib), so no binary file ships.
"""

from __future__ import annotations

import html
import struct
import zlib
from functools import lru_cache

from aiohttp import web

from ippproxy.server.http import CTX
from ippproxy.server.printer_attrs import QueueStatus, build
from ippproxy.server.strings import CONTENT_TYPE, strings_file
from ippproxy.server.uris import Origin


def _chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


@lru_cache(maxsize=1)
def icon_png(size: int = 128) -> bytes:
    row = b"\x00" + bytes((0x33, 0x66, 0x99)) * size          # filter byte + RGB pixels
    raw = row * size
    return (b"\x89PNG\r\n\x1a\n"
            + _chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0))
            + _chunk(b"IDAT", zlib.compress(raw, 9)) + _chunk(b"IEND", b""))


async def printer_page(request: web.Request) -> web.Response:
    ctx = request.app[CTX].get()
    name = request.match_info.get("name", "")
    q = ctx.queues.get(name)
    if q is None:
        raise web.HTTPNotFound(text="no such queue\n")
    cfg = q.config
    state = "paused" if q.paused else "ready"
    body = (f"<!doctype html><title>{html.escape(cfg.name)}</title>"
            f"<h1>{html.escape(cfg.info or cfg.name)}</h1>"
            f"<p>Location: {html.escape(cfg.location or '-')}</p><p>State: {state}</p>")
    return web.Response(text=body, content_type="text/html")


async def icon(request: web.Request) -> web.Response:
    ctx = request.app[CTX].get()
    if request.match_info.get("name", "") not in ctx.queues:
        raise web.HTTPNotFound(text="no such queue\n")
    return web.Response(body=icon_png(), content_type="image/png")


async def strings(request: web.Request) -> web.Response:
    """printer-strings-uri: the labels of the queue's keywords (PWG 5100.13)."""
    ctx = request.app[CTX].get()
    q = ctx.queues.get(request.match_info.get("name", ""))
    if q is None or request.match_info.get("lang") != "en":
        raise web.HTTPNotFound(text="no such strings file\n")
    dest = await ctx.capabilities.printer_attributes(q.config)
    attrs = build(ctx, q, Origin(request.host), dest, QueueStatus(), [])
    return web.Response(text=strings_file(attrs), content_type=CONTENT_TYPE,
                        charset="utf-8")


def add_pages(app: web.Application) -> None:
    app.router.add_get("/printers/{name}", printer_page)
    app.router.add_get("/icons/{name}.png", icon)
    app.router.add_get("/strings/{name}/{lang}.strings", strings)
