"""Users: the admin's user list (SavaPage §4.4.1) — the selection panel, a pager at top
and bottom, each user with role or status, pagometer pie, balance, jobs, bytes and held
documents, and links to edit, documents (the job history), transactions and GDPR; the
list downloaded as CSV or PDF with the same selection; the reset of every pagometer.

Everything goes through ``services.user_list`` (rights, checks, audit); the selection is
the query string, so a page, a bookmark and a download all say the same. A value the
service refuses is an error page naming the field (422), never a crash.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from ippproxy.services.actor import Access, Actor, Section
from ippproxy.services.errors import Invalid, NotFound
from ippproxy.services.user_list import UserList, make_filter
from ippproxy.web.pages.forms import done, posted_form, render
from ippproxy.web.pages.guard import page
from ippproxy.web.pages.pagometer import pie
from ippproxy.web.state import services_of

PER_PAGE = 20
# The selection's fields and their defaults (the Default button's values).
DEFAULTS = {"search": "", "group": "", "type": "any", "role": "any", "status": "live",
            "sort": "username", "order": "asc"}
CHOICES = {"type": (("any", "Either"), ("internal", "Internal"), ("external", "External")),
           "role": (("any", "Either"), ("admin", "Admin"), ("user", "User")),
           "status": (("live", "Not deleted"), ("active", "Active"), ("disabled", "Disabled"),
                      ("deleted", "Deleted"), ("any", "Either")),
           "sort": (("username", "ID"), ("email", "Email")),
           "order": (("asc", "Ascending"), ("desc", "Descending"))}


def listing(request: web.Request) -> UserList:
    found = services_of(request).user_list
    if found is None:
        raise NotFound("directory", "users (accounting is off)")
    return found


def selection(request: web.Request) -> dict[str, str]:
    """The selection from the query string, defaults for what it does not say."""
    q = request.query
    chosen = {k: q.get(k, v).strip()[:300] for k, v in DEFAULTS.items()}
    for key, options in CHOICES.items():
        if chosen[key] not in {o for o, _ in options}:
            raise Invalid(key, f"one of {', '.join(o for o, _ in options)}")
    return chosen


def query(chosen: dict[str, str], **extra: Any) -> str:
    """The query string of a selection: only what differs from the defaults."""
    values = {k: v for k, v in chosen.items() if v != DEFAULTS[k]}
    return urlencode({**values, **{k: v for k, v in extra.items() if v}})


def selected(chosen: dict[str, str]) -> tuple[Any, str, bool]:
    flt = make_filter(search=chosen["search"], group=chosen["group"], type=chosen["type"],
                      role=chosen["role"], status=chosen["status"])
    return flt, chosen["sort"], chosen["order"] == "desc"


def _offset(request: web.Request) -> int:
    raw = request.query.get("offset", "0")
    if not raw.isdigit() or len(raw) > 9:
        raise Invalid("offset", "a whole number, zero or more")
    return int(raw)


def _pages(total: int, offset: int, chosen: dict[str, str]) -> dict[str, Any]:
    """The pager: where this page is and the links to the others."""
    last = max(0, (total - 1) // PER_PAGE)
    at = min(offset // PER_PAGE, last)
    near = sorted({0, last, *range(max(0, at - 2), min(last, at + 2) + 1)})
    return {"first": offset + 1 if total else 0, "last": min(total, offset + PER_PAGE),
            "total": total, "at": at,
            "prev": query(chosen, offset=str((at - 1) * PER_PAGE)) if at > 0 else None,
            "next": query(chosen, offset=str((at + 1) * PER_PAGE)) if at < last else None,
            "links": [(n + 1, query(chosen, offset=str(n * PER_PAGE)), n == at)
                      for n in near]}


@page
async def user_list(request: web.Request, actor: Actor) -> web.StreamResponse:
    svc = listing(request)
    chosen = selection(request)
    flt, sort, desc = selected(chosen)
    offset = _offset(request)
    items, total = await svc.page_at(actor, flt, offset=offset, limit=PER_PAGE, sort=sort,
                                     descending=desc)
    users = services_of(request).users
    groups = ([g["name"] for g in await asyncio.to_thread(users.list_groups, actor)]
              if users is not None else [])
    for item in items:
        item["pie"] = pie(item["username"], item["pagometer"])
    shown = query(chosen)
    return render(request, "users.html", actor, "users", {
        "users": items, "chosen": chosen, "choices": CHOICES, "groups": groups,
        "pager": _pages(total, offset, chosen), "csv": f"/admin/users.csv?{shown}",
        "pdf": f"/admin/users.pdf?{shown}",
        "filtered": shown != "", "reset": await svc.last_reset(actor),
        "may_change": actor.may(Section.USERS, Access.WRITE)})


@page
async def reset_pagometers(request: web.Request, actor: Actor) -> web.StreamResponse:
    await posted_form(request)
    when = await listing(request).reset_pagometers(actor)
    raise done("/admin/users", f"Pagometers reset at {when.strftime('%Y-%m-%d %H:%M:%S')} UTC")
