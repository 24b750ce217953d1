"""Printers and queues: the catalog's queues with the destination's state and markers;
pause, resume, purge, add a queue from a destination URI (its capabilities fetched and
shown first), edit, delete after a confirmation. Every change goes through
``services.queues.QueueService`` (checked, audited, seen by every node); this node takes
it at once (``refresh``). Provisioned queues (the configuration file's) are shown
read-only: their state can change, their configuration cannot (the service says 409).
"""

from __future__ import annotations

from typing import Any

import aiohttp_jinja2
from aiohttp import web

from ippproxy.config import QueueConfig
from ippproxy.services.actor import Access, Actor, Section
from ippproxy.services.destination_probe import Capabilities
from ippproxy.services.errors import Conflict, Forbidden, Invalid
from ippproxy.web.pages.guard import checked_form, csrf_token, page
from ippproxy.web.pages.state import services

# The form's text fields and check boxes, as the keys of a [[queue]] table.
TEXT_FIELDS = ("name", "destination", "info", "location", "cost_model")
FLAGS = ("force_grayscale", "force_duplex", "default", "dnssd", "pin_required")


def marker_colour(colour: str) -> str:
    """A marker-colors value as a CSS colour: '#RRGGBB' only (PWG 5100.13 §5.7.4)."""
    first = colour.split("#")[1:2]
    if first and len(first[0]) >= 6 and all(c in "0123456789abcdefABCDEF" for c in first[0][:6]):
        return "#" + first[0][:6]
    return "#777777"


def _may_change(actor: Actor) -> None:
    if not actor.may(Section.PRINTERS, Access.WRITE):
        raise Forbidden("changing queues needs write access to printers")


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
    action = request.match_info["action"]
    admin = services(request)
    if action == "pause":
        await admin.queues.pause(actor, name)
    elif action == "resume":
        await admin.queues.resume(actor, name)
    else:
        await admin.queues.purge(actor, name)
    await admin.refresh()
    raise web.HTTPSeeOther(f"/admin/printers#p-{name}")


async def _cost_models(request: web.Request, actor: Actor) -> list[str]:
    try:
        return [m.config.name for m in await services(request).cost_models.list(actor)]
    except Forbidden:       # no finance rights: the field is free text
        return []


async def _form(request: web.Request, actor: Actor, *, editing: str | None,
                values: dict[str, Any], error: Invalid | Conflict | None = None,
                caps: Capabilities | None = None, status: int = 200) -> web.Response:
    return aiohttp_jinja2.render_template("printer_form.html", request, {
        "actor": actor, "csrf": csrf_token(request), "nav": "printers", "editing": editing,
        "v": values, "error": error, "field": getattr(error, "field", ""), "caps": caps,
        "cost_models": await _cost_models(request, actor)}, status=status)


def _values(q: QueueConfig) -> dict[str, Any]:
    return {k: getattr(q, k) for k in (*TEXT_FIELDS, *FLAGS)} | {
        "release": q.release, "approvers": ", ".join(q.approvers)}


def _posted(form: dict[str, str], *, with_name: bool) -> dict[str, Any]:
    out: dict[str, Any] = {k: form.get(k, "").strip() for k in TEXT_FIELDS
                           if with_name or k != "name"}
    out.update({k: form.get(k) == "on" for k in FLAGS})
    # Hold/release (issue 17 §6): the mode, and the approvers as "carol, @managers".
    out["release"] = form.get("release", "none")
    out["approvers"] = [a.strip() for a in form.get("approvers", "").split(",") if a.strip()]
    return out


async def _probe(request: web.Request, actor: Actor, uri: str
                 ) -> tuple[Capabilities | None, Invalid | Conflict | None]:
    if not uri or uri == "builtin":
        return None, None
    try:
        return await services(request).probe.capabilities(actor, uri), None
    except (Invalid, Conflict) as e:
        return None, e


@page
async def new_form(request: web.Request, actor: Actor) -> web.StreamResponse:
    """The add form; with ``destination`` given, the destination's capabilities too."""
    _may_change(actor)
    uri = request.query.get("destination", "").strip()[:2048]
    caps, error = await _probe(request, actor, uri)
    values: dict[str, Any] = ({k: "" for k in TEXT_FIELDS} | {k: False for k in FLAGS}
                              | {"release": "none", "approvers": ""})
    values["destination"] = uri
    values["dnssd"] = True             # a new queue is announced unless unticked
    if caps is not None:
        values["info"], values["location"] = caps.info or caps.make_and_model, caps.location
    return await _form(request, actor, editing=None, values=values, error=error, caps=caps,
                       status=422 if isinstance(error, Invalid) else 200)


@page
async def create(request: web.Request, actor: Actor) -> web.StreamResponse:
    form = await checked_form(request)
    fields = _posted(form, with_name=True)
    admin = services(request)
    try:
        q = await admin.queues.create(actor, fields)
    except (Invalid, Conflict) as e:
        return await _form(request, actor, editing=None, values=fields, error=e,
                           status=422 if isinstance(e, Invalid) else 409)
    await admin.refresh()
    raise web.HTTPSeeOther(f"/admin/printers#p-{q.name}")


async def _editable(request: web.Request, actor: Actor, name: str) -> QueueConfig:
    _may_change(actor)
    view = await services(request).queues.get(actor, name)
    if view.provisioned:
        raise Conflict(f"queue {name!r} is provisioned by the configuration file: change it "
                       "there (it is read-only here)")
    return view.config


@page
async def edit_form(request: web.Request, actor: Actor) -> web.StreamResponse:
    name = request.match_info["name"]
    q = await _editable(request, actor, name)
    return await _form(request, actor, editing=name, values=_values(q))


@page
async def update(request: web.Request, actor: Actor) -> web.StreamResponse:
    form = await checked_form(request)
    name = request.match_info["name"]
    fields = _posted(form, with_name=False)
    admin = services(request)
    try:
        await admin.queues.update(actor, name, fields)
    except (Invalid, Conflict) as e:
        if isinstance(e, Conflict) and "provisioned" in e.detail:
            raise
        return await _form(request, actor, editing=name, values={**fields, "name": name},
                           error=e, status=422 if isinstance(e, Invalid) else 409)
    await admin.refresh()
    raise web.HTTPSeeOther(f"/admin/printers#p-{name}")


@page
async def delete_form(request: web.Request, actor: Actor) -> web.StreamResponse:
    name = request.match_info["name"]
    await _editable(request, actor, name)
    waiting = await services(request).printers.get(actor, name)
    return aiohttp_jinja2.render_template("printer_delete.html", request, {
        "actor": actor, "csrf": csrf_token(request), "nav": "printers", "p": waiting})


@page
async def delete(request: web.Request, actor: Actor) -> web.StreamResponse:
    await checked_form(request)
    name = request.match_info["name"]
    admin = services(request)
    await admin.queues.delete(actor, name)
    await admin.refresh()
    raise web.HTTPSeeOther("/admin/printers")


def add_printer_routes(r: web.UrlDispatcher) -> None:
    r.add_get("/admin/printers", printer_list)
    r.add_get("/admin/printers/new", new_form)
    r.add_post("/admin/printers/new", create)
    r.add_get("/admin/printers/{name}/edit", edit_form)
    r.add_post("/admin/printers/{name}/edit", update)
    r.add_get("/admin/printers/{name}/delete", delete_form)
    r.add_post("/admin/printers/{name}/delete", delete)
    r.add_post("/admin/printers/{name}/{action:pause|resume|purge}", printer_action)
