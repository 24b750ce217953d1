"""The edit-user page ``/admin/users/{name}`` with one form per section (SavaPage manual,
"Users", §4.4.4: identity, roles, e-mail, card and ID, UUID, financial, password, delete),
creating an internal user (``/admin/users/new``) and the personal data page
``/admin/users/{name}/gdpr`` (download, erase). Every change goes through
``services.user_edit`` / ``services.user_life`` / ``services.user_roles`` (the same checks
and audit as the REST API and ``ippproxy cmd``); a refused value is shown beside its field
(422), a deleted user's page says it cannot be edited (409)."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote

from aiohttp import web

from ippproxy.services.abstract_user import remove_held_documents
from ippproxy.services.actor import Access, Actor, Section
from ippproxy.services.changes import require
from ippproxy.services.errors import Invalid, NotFound, ServiceError
from ippproxy.services.user_edit import UserChanges, UserEdit
from ippproxy.services.user_life import NewUser, UserLife
from ippproxy.services.user_roles import STATES, UserRoles
from ippproxy.web.pages.forms import done, posted_form, refused, render
from ippproxy.web.pages.guard import page
from ippproxy.web.state import services_of
from ippproxy.web.user_edit_api import zip_response

PARTS = ("identity", "roles", "email", "card", "token", "financial", "password",
         "password-erase", "delete")
CREDIT = ("none", "group", "individual")
# The edit page's fields a directory sync may overwrite (config.LDAP_FIELDS) -> its label.
SYNCED = {"full-name": "full name", "email": "primary e-mail", "card-number": "card number",
          "id-number": "ID number"}


def _edit(request: web.Request) -> UserEdit:
    svc = services_of(request).user_edit
    if svc is None:
        raise NotFound("directory", "users (accounting is off)")
    return svc


def _life(request: web.Request) -> UserLife:
    svc = services_of(request).user_life
    if svc is None:
        raise NotFound("directory", "users (accounting is off)")
    return svc


def _roles(edit: UserEdit) -> UserRoles:
    return UserRoles(edit.engine, edit.audit)


def _path(name: str) -> str:
    return f"/admin/users/{quote(name, safe='')}"


async def _view(request: web.Request, actor: Actor, errors: dict[str, str] | None = None,
                shown: dict[str, Any] | None = None, status: int = 200) -> web.Response:
    edit = _edit(request)
    user = await asyncio.to_thread(edit.details, actor, request.match_info["name"])
    roles = await asyncio.to_thread(_roles(edit).user_roles, actor, user["username"])
    values = {"full_name": user["full_name"], "primary": (user["emails"] or [""])[0],
              "others": "\n".join(user["emails"][1:]), "card_number": user["card_number"],
              "id_number": user["id_number"], "credit_source": user["credit_source"],
              "credit_limit": edit.shown(user["credit_limit"]),
              "balance": edit.shown(user["balance"]), **(shown or {})}
    return render(request, "user_edit.html", actor, "users", {
        "user": user, "shown": values, "errors": errors or {}, "roles": roles,
        "states": STATES, "credit": CREDIT, "path": _path(user["username"]),
        "synced": {f: SYNCED[f] for f in user["sync_overwrites"] if f in SYNCED},
        "money": edit.shown, "may_write": actor.may(Section.USERS, Access.WRITE),
        "may_finance": actor.may(Section.FINANCE, Access.WRITE)}, status)


@page
async def user_edit(request: web.Request, actor: Actor) -> web.StreamResponse:
    return await _view(request, actor)


def _flag(form: dict[str, str], name: str) -> bool:
    return form.get(name) == "true"


async def _apply(request: web.Request, actor: Actor, name: str, part: str,
                 form: dict[str, str]) -> str:
    """Apply one section's form; the notice to show."""
    edit = _edit(request)
    changes: UserChanges | None = None
    if part == "identity":
        changes = UserChanges(full_name=form.get("full_name", "").strip(),
                              admin=_flag(form, "admin"), person=_flag(form, "person"),
                              disabled=_flag(form, "disabled"))
    elif part == "email":
        changes = UserChanges(emails=" ".join((form.get("primary", ""),
                                               form.get("others", ""))))
    elif part == "card":
        pin = form.get("pin", "")
        changes = UserChanges(card_number=form.get("card_number", ""),
                              card_format=form.get("card_format", "hex"),
                              card_order=form.get("card_order", "lsb"),
                              id_number=form.get("id_number", ""),
                              pin="" if _flag(form, "pin_remove") else (pin or None))
    elif part == "password":
        if not form.get("password", ""):
            raise Invalid("password", "type the new password (Erase removes it)")
        changes = UserChanges(password=form["password"])
    elif part == "password-erase":
        changes = UserChanges(password="")
    elif part == "financial":
        limit = form.get("credit_limit", "").strip()
        credit = UserChanges(credit_source=form.get("credit_source", ""),
                             credit_limit=edit.amount("credit_limit", limit) if limit
                             else None)
        balance = form.get("balance", "").strip()
        wanted = edit.amount("balance", balance) if balance else None
        user = await asyncio.to_thread(edit.details, actor, name)
        setting = wanted is not None and wanted != user["balance"]
        if setting and not form.get("reason", "").strip():  # checked before any change
            raise Invalid("reason", "say why the balance changes")
        await asyncio.to_thread(edit.update, actor, name, credit)
        if setting and wanted is not None:
            after, posting = await asyncio.to_thread(
                edit.set_balance, actor, name, wanted, form.get("reason", ""),
                form.get("key") or None)
            notices = services_of(request).notices
            if posting is not None and notices is not None:
                await notices.balance_set(name, "An administrator set your balance to "
                                          f"{edit.shown(after['balance'])} {after['currency']}.")
    elif part == "roles":
        roles = _roles(edit)
        current = await asyncio.to_thread(roles.user_roles, actor, name)
        for role, now in current.items():
            wanted = form.get(f"role-{role}", now["state"])
            if wanted != now["state"]:
                await asyncio.to_thread(roles.set_user_role, actor, name, role, wanted)
    elif part == "token":
        await asyncio.to_thread(edit.new_token, actor, name)
    if changes is not None:
        await asyncio.to_thread(edit.update, actor, name, changes)
    if changes is not None and changes.person is False:  # abstract: held documents go
        removed = await remove_held_documents(services_of(request).jobs, actor, name)
        if removed:
            return f"Saved the identity of {name}; removed {removed} held job(s)"
    return f"Saved the {part.replace('-', ' ')} of {name}"


@page
async def user_change(request: web.Request, actor: Actor) -> web.StreamResponse:
    """POST /admin/users/{name}/{part}: one section of the edit page."""
    form = await posted_form(request)
    edit = _edit(request)
    name = (await asyncio.to_thread(edit.details, actor, request.match_info["name"]))[
        "username"]  # first: who may not read users learns nothing (403), not the parts
    part = request.match_info["part"]
    if part not in PARTS:
        raise web.HTTPNotFound(text="no such form\n")
    try:
        if part == "delete":
            result = await asyncio.to_thread(_life(request).delete, actor, name)
            raise done("/admin/users", f"Deleted {name} ({result['deleted']})")
        notice = await _apply(request, actor, name, part, form)
    except ServiceError as e:
        if (shown := refused(e)) is None:
            raise
        return await _view(request, actor, shown[0], _typed(form), shown[1])
    raise done(_path(name), notice)


def _typed(form: dict[str, str]) -> dict[str, Any]:
    """What the admin typed, shown again beside the refusal (never a secret)."""
    return {k: v for k, v in form.items() if k not in ("pin", "password", "csrf_token")}


@page
async def user_new(request: web.Request, actor: Actor) -> web.StreamResponse:
    require(actor, Section.USERS, Access.WRITE)  # deny by default: no empty form
    return _new_form(request, actor)


def _new_form(request: web.Request, actor: Actor, shown: dict[str, Any] | None = None,
              errors: dict[str, str] | None = None, status: int = 200) -> web.Response:
    life = _life(request)
    c = life.config()
    return render(request, "user_new.html", actor, "users", {
        "shown": shown or {}, "errors": errors or {}, "prefix": c.username_prefix,
        "password_min": c.password_length_min}, status)


@page
async def user_create(request: web.Request, actor: Actor) -> web.StreamResponse:
    form = await posted_form(request)
    try:
        name = await asyncio.to_thread(_life(request).create_internal, actor, NewUser(
            form.get("username", "").strip(), form.get("password", ""),
            form.get("full_name", "").strip(), form.get("emails", "")))
    except ServiceError as e:
        if (shown := refused(e)) is None:
            raise
        return _new_form(request, actor, _typed(form), shown[0], shown[1])
    raise done(_path(name), f"Created {name}")


@page
async def user_gdpr(request: web.Request, actor: Actor) -> web.StreamResponse:
    user = await asyncio.to_thread(_edit(request).details, actor, request.match_info["name"])
    return render(request, "user_gdpr.html", actor, "users", {
        "user": user, "path": _path(user["username"]),
        "may_write": actor.may(Section.USERS, Access.WRITE)})


@page
async def user_gdpr_download(request: web.Request, actor: Actor) -> web.StreamResponse:
    name = request.match_info["name"]
    data = await asyncio.to_thread(_life(request).export_zip, actor, name)
    return zip_response(data, name)


@page
async def user_gdpr_erase(request: web.Request, actor: Actor) -> web.StreamResponse:
    form = await posted_form(request)
    name = request.match_info["name"]
    if form.get("confirm", "") != "erase":
        user = await asyncio.to_thread(_edit(request).details, actor, name)
        return render(request, "user_gdpr.html", actor, "users", {
            "user": user, "path": _path(user["username"]), "may_write": True,
            "errors": {"confirm": "type erase to confirm"}}, 422)
    result = await asyncio.to_thread(_life(request).erase, actor, name)
    raise done(_path(result["username"]), f"Erased the personal data at {result['erased_at']}")


def add_user_edit_pages(r: web.UrlDispatcher) -> None:
    r.add_get("/admin/users/new", user_new)
    r.add_post("/admin/users/new", user_create)
    r.add_get("/admin/users/{name}", user_edit)
    r.add_get("/admin/users/{name}/gdpr", user_gdpr)
    r.add_get("/admin/users/{name}/gdpr/personal-data.zip", user_gdpr_download)
    r.add_post("/admin/users/{name}/gdpr/erase", user_gdpr_erase)
    r.add_post("/admin/users/{name}/{part}", user_change)
