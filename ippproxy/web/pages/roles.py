"""Roles through groups (``services.user_roles``): ``/admin/roles`` shows the built-in
groups' tri-states (Internal Users, External Users, All Users) and a user's resolved roles
with the level that decided each; ``POST /admin/roles/{name}`` saves a group's states
(the built-in groups' here, a group's from its page, ``/admin/groups/{name}``)."""

from __future__ import annotations

import asyncio

from aiohttp import web

from ippproxy.services.actor import Access, Actor, Section
from ippproxy.services.errors import Invalid, NotFound, ServiceError
from ippproxy.services.user_roles import BUILTIN_GROUPS, ROLE_NAMES, UserRoles
from ippproxy.web.pages.forms import done, posted_form, refused, render
from ippproxy.web.pages.guard import page
from ippproxy.web.state import services_of

LABELS = {"internal-users": "Internal Users", "external-users": "External Users",
          "all-users": "All Users"}
assert set(LABELS) == set(BUILTIN_GROUPS)


def user_roles(request: web.Request) -> UserRoles:
    svc = services_of(request).user_roles
    if svc is None:
        raise NotFound("directory", "roles (accounting is off)")
    return svc


async def group_roles(request: web.Request, actor: Actor, group: str
                      ) -> dict[str, str] | None:
    """A group's role states for its page; None when it has none to show (the users
    section is not the actor's, accounting is off, or no member was ever added)."""
    svc = services_of(request).user_roles
    if svc is None or not actor.may(Section.USERS, Access.READ):
        return None
    try:
        return await asyncio.to_thread(svc.group_roles, actor, group)
    except (NotFound, Invalid):
        return None


def _back(raw: str) -> str:
    """Where the form came from: this page or a group's page, never elsewhere."""
    if raw.startswith("/admin/groups/") and "//" not in raw and "\\" not in raw \
            and "?" not in raw:
        return raw
    return "/admin/roles"


async def _view(request: web.Request, actor: Actor, errors: dict[str, str] | None = None,
                status: int = 200) -> web.Response:
    svc = user_roles(request)
    builtin = [(g, LABELS[g], await asyncio.to_thread(svc.group_roles, actor, g))
               for g in BUILTIN_GROUPS]
    user = request.query.get("user", "").strip()[:255]
    resolved, errors = None, dict(errors or {})
    users = services_of(request).users
    names = ([g["name"] for g in await asyncio.to_thread(users.list_groups, actor)]
             if users is not None else [])
    group = request.query.get("group", "")
    chosen = None
    if group in names:
        chosen = (group, await asyncio.to_thread(svc.group_roles, actor, group))
    if user:
        try:
            resolved = await asyncio.to_thread(svc.user_roles, actor, user)
        except (NotFound, Invalid) as e:
            errors["user"], status = e.detail, 404 if isinstance(e, NotFound) else 422
    return render(request, "roles.html", actor, "roles", {
        "builtin": builtin, "groups": names, "chosen": chosen, "user": user, "resolved": resolved, "errors": errors,
        "may_change": actor.may(Section.USERS, Access.WRITE)}, status)


@page
async def roles_page(request: web.Request, actor: Actor) -> web.StreamResponse:
    return await _view(request, actor)


@page
async def roles_save(request: web.Request, actor: Actor) -> web.StreamResponse:
    form = await posted_form(request)
    group = request.match_info["name"]
    wanted = {r: form[f"role-{r}"] for r in ROLE_NAMES if f"role-{r}" in form}
    try:
        await asyncio.to_thread(user_roles(request).set_group_roles, actor, group, wanted)
    except ServiceError as e:
        if (shown := refused(e)) is None:
            raise
        return await _view(request, actor, shown[0], shown[1])
    raise done(_back(form.get("back", "")), f"Saved the roles of {group}")
