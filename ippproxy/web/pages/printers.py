"""Printers and queues: the destination's state and markers, the queue's jobs; pause and
resume."""

from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web

from ippproxy.services.actor import Access, Actor, Section
from ippproxy.web.pages.guard import checked_form, csrf_token, page
from ippproxy.web.pages.state import services


def marker_colour(colour: str) -> str:
    """A marker-colors value as a CSS colour: '#RRGGBB' only (PWG 5100.13 §5.7.4)."""
    first = colour.split("#")[1:2]
    if first and len(first[0]) >= 6 and all(c in "0123456789abcdefABCDEF" for c in first[0][:6]):
        return "#" + first[0][:6]
    return "#777777"


@page
async def printer_list(request: web.Request, actor: Actor) -> web.StreamResponse:
    printers = await services(request).printers.list(actor)
    return aiohttp_jinja2.render_template("printers.html", request, {
        "actor": actor, "csrf": csrf_token(request), "nav": "printers", "printers": printers,
        "marker_colour": marker_colour,
        "may_change": actor.may(Section.PRINTERS, Access.WRITE)})


@page
async def printer_action(request: web.Request, actor: Actor) -> web.StreamResponse:
    await checked_form(request)
    name = request.match_info["name"]
    paused = request.match_info["action"] == "pause"
    await services(request).printers.set_paused(actor, name, paused)
    raise web.HTTPSeeOther("/admin/printers")
