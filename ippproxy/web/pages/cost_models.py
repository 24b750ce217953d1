"""Cost models: the list, a new model, and each model's page prices, media prices, duplex
discount and job fee (``services.cost_models``). Provisioned models are shown read-only."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ippproxy.catalog.store import spec
from ippproxy.services.actor import Access, Actor, Section
from ippproxy.services.changes import require
from ippproxy.services.errors import ServiceError
from ippproxy.web.pages.forms import catalog, done, posted_form, refused, render, texts
from ippproxy.web.pages.guard import page

PRICES = ("mono", "color", "duplex_discount", "job_fee")
MAX_MEDIA = 100


def _media(form: dict[str, str]) -> list[dict[str, str]]:
    """The media rows the admin filled in (``media-N-name``, ``-mono``, ``-color``)."""
    out = []
    for i in range(MAX_MEDIA + 1):
        name = form.get(f"media-{i}-name", "").strip()
        if name:
            out.append({"name": name, "mono": form.get(f"media-{i}-mono", "").strip() or "0",
                        "color": form.get(f"media-{i}-color", "").strip() or "0"})
    return out


def _fields(form: dict[str, str]) -> dict[str, Any]:
    return {**texts(form, PRICES), "media": _media(form)}


def _view(request: web.Request, actor: Actor, model: dict[str, Any] | None,
          errors: dict[str, str] | None = None, values: dict[str, Any] | None = None,
          status: int = 200) -> web.Response:
    shown = values if values is not None else (model or {"media": []})
    return render(request, "cost_model.html", actor, "cost-models", {
        "model": model, "shown": shown, "errors": errors or {}, "status": status,
        "may_change": actor.may(Section.FINANCE, Access.WRITE)
        and not (model or {}).get("provisioned")}, status)


@page
async def cost_model_list(request: web.Request, actor: Actor) -> web.StreamResponse:
    found = await catalog(request).cost_models.list(actor)
    return render(request, "cost_models.html", actor, "cost-models", {
        "models": [{**spec(s.config), "provisioned": s.provisioned} for s in found],
        "may_change": actor.may(Section.FINANCE, Access.WRITE)})


@page
async def cost_model_new(request: web.Request, actor: Actor) -> web.StreamResponse:
    require(actor, Section.FINANCE, Access.WRITE)  # deny by default: no empty form
    return _view(request, actor, None)


@page
async def cost_model_edit(request: web.Request, actor: Actor) -> web.StreamResponse:
    s = await catalog(request).cost_models.get(actor, request.match_info["name"])
    return _view(request, actor, {**spec(s.config), "provisioned": s.provisioned})


def _typed(form: dict[str, str]) -> dict[str, Any]:
    return {**form, "media": _media(form)}


@page
async def cost_model_create(request: web.Request, actor: Actor) -> web.StreamResponse:
    form = await posted_form(request)
    try:
        m = await catalog(request).cost_models.create(
            actor, {"name": form.get("name", "").strip(), **_fields(form)})
    except ServiceError as e:
        if (shown := refused(e)) is None:
            raise
        return _view(request, actor, None, shown[0], _typed(form), shown[1])
    raise done("/admin/cost-models", f"Created {m.name}")


@page
async def cost_model_update(request: web.Request, actor: Actor) -> web.StreamResponse:
    form = await posted_form(request)
    svc = catalog(request).cost_models
    s = await svc.get(actor, request.match_info["name"])
    model = {**spec(s.config), "provisioned": s.provisioned}
    try:
        if form.get("delete"):
            await svc.delete(actor, s.config.name)
            raise done("/admin/cost-models", f"Deleted {s.config.name}")
        await svc.update(actor, s.config.name, _fields(form))
    except ServiceError as e:
        if (shown := refused(e)) is None:
            raise
        return _view(request, actor, model, shown[0], {**model, **_typed(form)}, shown[1])
    raise done("/admin/cost-models", f"Saved {s.config.name}")
