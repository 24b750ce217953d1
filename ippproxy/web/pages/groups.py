"""Groups: their price multiplier and what a new member starts with, their quota, and the
sections their members may administer (``services.groups``, ``services.admins``: h5's
group rights). Provisioned groups' settings are read-only; quota and rights are not the
configuration file's."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import Any

from aiohttp import web

from ippproxy.services.actor import Access, Actor, Section
from ippproxy.services.changes import require
from ippproxy.services.errors import Invalid, ServiceError
from ippproxy.web.pages.forms import catalog, done, posted_form, refused, render, texts
from ippproxy.web.pages.guard import page
from ippproxy.web.pages.roles import group_roles
from ippproxy.web.state import services_of

SETTINGS = ("multiplier", "initial_balance", "credit_limit")
PERIODS = ("", "daily", "weekly", "monthly")
ACCESS = ("none", "read", "write")
PARTS = ("settings", "quota", "rights", "delete")


def _settings(form: dict[str, str]) -> dict[str, Any]:
    return {**texts(form, SETTINGS), "restricted": form.get("restricted") == "true"}


@page
async def group_list(request: web.Request, actor: Actor) -> web.StreamResponse:
    found = await catalog(request).groups.list(actor)
    return render(request, "groups.html", actor, "groups", {
        "groups": [{**asdict(s.config), "provisioned": s.provisioned} for s in found],
        "may_change": actor.may(Section.USERS, Access.WRITE)})


@page
async def group_new(request: web.Request, actor: Actor) -> web.StreamResponse:
    require(actor, Section.USERS, Access.WRITE)  # deny by default: no empty form
    return _new(request, actor, {"multiplier": "1", "initial_balance": "0",
                                 "credit_limit": "0", "restricted": True})


def _new(request: web.Request, actor: Actor, shown: dict[str, Any],
         errors: dict[str, str] | None = None, status: int = 200) -> web.Response:
    return render(request, "group_new.html", actor, "groups",
                  {"shown": shown, "errors": errors or {}}, status)


@page
async def group_create(request: web.Request, actor: Actor) -> web.StreamResponse:
    form = await posted_form(request)
    try:
        g = await catalog(request).groups.create(
            actor, {"name": form.get("name", "").strip(), **_settings(form)})
    except ServiceError as e:
        if (shown := refused(e)) is None:
            raise
        return _new(request, actor, {**form, "restricted": form.get("restricted") == "true"},
                    shown[0], shown[1])
    raise done(f"/admin/groups/{g.name}", f"Created {g.name}")


async def _view(request: web.Request, actor: Actor, errors: dict[str, str] | None = None,
                shown: dict[str, Any] | None = None, status: int = 200) -> web.Response:
    svc = catalog(request)
    found = await svc.groups.get(actor, request.match_info["name"])
    name = found.config.name
    group = {**asdict(found.config), "provisioned": found.provisioned}
    quota = (await svc.groups.quota(actor, name)
             if actor.may(Section.FINANCE, Access.READ) else None)
    rights = (await asyncio.to_thread(services_of(request).admins.group_rights, actor, name)
              if actor.may(Section.USERS, Access.READ) else {})
    roles = await group_roles(request, actor, name)
    return render(request, "group.html", actor, "groups", {
        "group": group, "quota": quota, "periods": PERIODS, "access": ACCESS,
        "roles": roles, "may_roles": actor.may(Section.USERS, Access.WRITE),
        "rights": {str(s): rights.get(s, Access.NONE).name.lower() for s in Section},
        "shown": {**group, **(quota or {}), **(shown or {})}, "errors": errors or {},
        "may_settings": actor.may(Section.USERS, Access.WRITE) and not found.provisioned,
        "may_quota": actor.may(Section.FINANCE, Access.WRITE),
        "may_rights": actor.superuser}, status)


@page
async def group_edit(request: web.Request, actor: Actor) -> web.StreamResponse:
    return await _view(request, actor)


@page
async def group_change(request: web.Request, actor: Actor) -> web.StreamResponse:
    """POST /admin/groups/{name}/{part}: settings, quota, rights or delete."""
    form = await posted_form(request)
    svc = catalog(request).groups
    name = (await svc.get(actor, request.match_info["name"])).config.name
    part = request.match_info["part"]
    if part not in PARTS:
        raise web.HTTPNotFound(text="no such form\n")
    try:
        if part == "settings":
            await svc.update(actor, name, _settings(form))
        elif part == "quota":
            await svc.set_quota(actor, name, form.get("period", ""),
                                form.get("amount", "").strip() or "0",
                                form.get("cap", "").strip() or None)
        elif part == "rights":
            wanted = {}
            for s in Section:
                value = form.get(f"right-{s}", "none")
                if value not in ACCESS:
                    raise Invalid(f"right-{s}", "none, read or write")
                wanted[s] = Access[value.upper()]
            await asyncio.to_thread(services_of(request).admins.set_group_rights, actor,
                                    name, wanted)
        else:
            await svc.delete(actor, name)
            raise done("/admin/groups", f"Deleted {name}")
    except ServiceError as e:
        if (shown := refused(e)) is None:
            raise
        typed = {**form, "restricted": form.get("restricted") == "true"}
        return await _view(request, actor, shown[0], typed, shown[1])
    raise done(f"/admin/groups/{name}", f"Saved the {part} of {name}")
