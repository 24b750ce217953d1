"""The LDAP user source page ``/admin/directory`` (``services.user_sync``): the connection
settings (read-only, from the configuration, never the bind password), the fields a sync
may overwrite, the last sync's status, a paged preview of what a sync would add, change
and delete, and Apply, with the bulk delete of users gone from the directory only when
its box is ticked. A directory that is down or slow: the page says why, nothing changed."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import Any

from aiohttp import web

from ippproxy.services.actor import Access, Actor, Section
from ippproxy.services.changes import require
from ippproxy.services.errors import NotFound, Unavailable
from ippproxy.services.user_sync import UserSync
from ippproxy.web.directory_api import preview_page
from ippproxy.web.pages.forms import done, posted_form, render
from ippproxy.web.pages.guard import page
from ippproxy.web.state import services_of

PAGE_SIZE = 25


def _sync(request: web.Request, actor: Actor) -> UserSync:
    svc = services_of(request).user_sync
    if svc is None:
        require(actor, Section.USERS, Access.READ)  # deny first: no hint to others
        raise NotFound("user source", "ldap (set [ldap] url in the configuration)")
    return svc


def _page_number(raw: str) -> int:
    return int(raw) if raw.isdigit() and 0 < len(raw) < 7 else 1


async def _view(request: web.Request, actor: Actor, *, message: str = "",
                status: int = 200) -> web.Response:
    svc = _sync(request, actor)
    source = await asyncio.to_thread(svc.source, actor)
    preview: dict[str, Any] | None = None
    number = _page_number(request.query.get("page", "1"))
    if request.query.get("preview") and not message:
        try:
            plan = await asyncio.to_thread(svc.preview, actor, reuse=number > 1)
        except Unavailable as e:
            message, status = e.detail, 503
        else:
            preview = preview_page(plan, (number - 1) * PAGE_SIZE, PAGE_SIZE)
            longest = max(len(plan.adds), len(plan.changes), len(plan.deletes))
            preview["pages"] = max(1, -(-longest // PAGE_SIZE))
    last = await asyncio.to_thread(svc.status, actor)
    return render(request, "directory.html", actor, "directory", {
        "source": asdict(source), "last": None if last is None else asdict(last),
        "preview": preview, "page": number, "message": message,
        "may_apply": actor.may(Section.USERS, Access.WRITE)}, status)


@page
async def directory_page(request: web.Request, actor: Actor) -> web.StreamResponse:
    return await _view(request, actor)


@page
async def directory_apply(request: web.Request, actor: Actor) -> web.StreamResponse:
    """POST /admin/directory/apply: the sync; ``delete_missing`` ticked: the bulk delete."""
    form = await posted_form(request)
    try:
        result = await asyncio.to_thread(_sync(request, actor).apply, actor,
                                         delete_missing=form.get("delete_missing") == "true")
    except Unavailable as e:
        return await _view(request, actor, message=e.detail, status=503)
    c = result.plan.summary()
    kept = len(result.plan.deletes) - result.deleted
    tail = (f"; {kept} user(s) gone from the directory kept (tick the bulk delete to "
            "delete them)" if kept else "")
    if not result.applied:
        raise done("/admin/directory", f"Nothing to change{tail or ': the users match'}")
    raise done("/admin/directory", f"Synced: {c['adds']} added, {c['changes']} changed, "
                                   f"{result.deleted} deleted, {c['new_groups']} new "
                                   f"groups{tail}")
