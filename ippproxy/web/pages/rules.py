"""Rules: the list in the order they apply (move up, down), a new rule, and each rule's
settings (``services.rules``). Provisioned rules are shown read-only."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ippproxy.catalog.store import spec
from ippproxy.config import RULE_TYPES, UNKNOWN_MODES
from ippproxy.services.actor import Access, Actor, Section
from ippproxy.services.changes import require
from ippproxy.services.errors import Invalid, ServiceError
from ippproxy.web.pages.forms import (
    catalog,
    done,
    posted_form,
    refused,
    render,
    texts,
    whole,
    words,
)
from ippproxy.web.pages.guard import page

LISTS = ("printers", "groups", "exempt_groups", "values", "allowed_groups")
NUMBERS = ("limit", "window_minutes", "min_pages")


def _fields(form: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {**texts(form, ("type", "amount", "unknown")),
                           **{n: words(form.get(n, "")) for n in LISTS}}
    for n in NUMBERS:
        whole(form, n, out)
    out["allow_print_as_other"] = form.get("allow_print_as_other") == "true"
    return out


def _shown(rule: dict[str, Any]) -> dict[str, Any]:
    return {**rule, **{n: ", ".join(rule.get(n, ())) for n in LISTS}}


async def _rules(request: web.Request, actor: Actor) -> list[dict[str, Any]]:
    found = await catalog(request).rules.list(actor)
    return [{**spec(s.config), "position": i, "provisioned": s.provisioned}
            for i, s in enumerate(found, start=1)]


def _view(request: web.Request, actor: Actor, rule: dict[str, Any] | None,
          shown: dict[str, Any], errors: dict[str, str] | None = None,
          status: int = 200) -> web.Response:
    return render(request, "rule.html", actor, "rules", {
        "rule": rule, "shown": shown, "errors": errors or {}, "types": RULE_TYPES,
        "unknown_modes": UNKNOWN_MODES,
        "may_change": actor.may(Section.PRINTERS, Access.WRITE)
        and not (rule or {}).get("provisioned")}, status)


@page
async def rule_list(request: web.Request, actor: Actor) -> web.StreamResponse:
    return render(request, "rules.html", actor, "rules", {
        "rules": await _rules(request, actor),
        "may_change": actor.may(Section.PRINTERS, Access.WRITE)})


@page
async def rule_new(request: web.Request, actor: Actor) -> web.StreamResponse:
    require(actor, Section.PRINTERS, Access.WRITE)  # deny by default: no empty form
    return _view(request, actor, None, {"type": RULE_TYPES[0], "unknown": "allow"})


async def _one(request: web.Request, actor: Actor) -> dict[str, Any]:
    name = request.match_info["name"]
    for r in await _rules(request, actor):
        if r["name"] == name:
            return r
    await catalog(request).rules.get(actor, name)  # NotFound: the error page
    raise web.HTTPNotFound()


@page
async def rule_edit(request: web.Request, actor: Actor) -> web.StreamResponse:
    rule = await _one(request, actor)
    return _view(request, actor, rule, _shown(rule))


@page
async def rule_create(request: web.Request, actor: Actor) -> web.StreamResponse:
    form = await posted_form(request)
    try:
        position = None
        if form.get("position", "").strip():
            box: dict[str, Any] = {}
            whole(form, "position", box)
            position = box["position"]
        r = await catalog(request).rules.create(
            actor, {"name": form.get("name", "").strip(), **_fields(form)}, position)
    except ServiceError as e:
        if (shown := refused(e)) is None:
            raise
        return _view(request, actor, None, form, shown[0], shown[1])
    raise done("/admin/rules", f"Created {r.name}")


@page
async def rule_update(request: web.Request, actor: Actor) -> web.StreamResponse:
    form = await posted_form(request)
    rule = await _one(request, actor)
    svc = catalog(request).rules
    name = rule["name"]
    try:
        if form.get("delete"):
            await svc.delete(actor, name)
            raise done("/admin/rules", f"Deleted {name}")
        if form.get("move"):
            step = {"up": -1, "down": 1}.get(form["move"])
            if step is None:
                raise Invalid("move", "up or down")
            await svc.move(actor, name, max(1, rule["position"] + step))
            raise done("/admin/rules", f"Moved {name}")
        await svc.update(actor, name, _fields(form))
    except ServiceError as e:
        if (shown := refused(e)) is None:
            raise
        return _view(request, actor, rule, {**_shown(rule), **form}, shown[0], shown[1])
    raise done("/admin/rules", f"Saved {name}")
