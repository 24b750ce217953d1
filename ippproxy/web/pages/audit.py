"""The audit log: who changed what, when, before and after; filtered by actor, kind,
object name, action and time, newest first, a page at a time (``services.audit``, keyset
paging by ``before_id``)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from ippproxy.catalog import AuditQuery
from ippproxy.services.actor import Actor
from ippproxy.services.errors import Invalid, ServiceError
from ippproxy.web.pages.forms import catalog, refused, render
from ippproxy.web.pages.guard import page

FILTERS = ("actor", "kind", "name", "action")
TIMES = ("since", "until")
PAGE = 50


def _time(field: str, text: str) -> dt.datetime | None:
    """A ``datetime-local`` value (no offset: UTC, as the page says) or an RFC 3339 one."""
    if not text:
        return None
    try:
        t = dt.datetime.fromisoformat(text)
    except ValueError:
        raise Invalid(field, "a date and time, e.g. 2026-12-01T09:30") from None
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


def _json(value: Any) -> str:
    return "" if value is None else json.dumps(value, sort_keys=True, ensure_ascii=False)


def _query(shown: dict[str, str]) -> AuditQuery:
    before = shown.get("before_id", "")
    if before and not before.isdigit():
        raise Invalid("before_id", "not a page of this log")
    return AuditQuery(**{k: shown[k] or None for k in FILTERS},
                      since=_time("since", shown["since"]),
                      until=_time("until", shown["until"]),
                      before_id=int(before) if before else None, limit=PAGE + 1)


@page
async def audit_log(request: web.Request, actor: Actor) -> web.StreamResponse:
    shown = {k: request.query.get(k, "").strip()[:255] for k in (*FILTERS, *TIMES)}
    shown["before_id"] = request.query.get("before_id", "")[:20]
    errors: dict[str, str] = {}
    status, entries = 200, []
    try:
        entries = await catalog(request).audit.list(actor, _query(shown))
    except ServiceError as e:
        if (found := refused(e)) is None:
            raise
        errors, status = found
    more = len(entries) > PAGE
    entries = entries[:PAGE]
    filters = {k: v for k, v in shown.items() if v and k != "before_id"}
    return render(request, "audit.html", actor, "audit", {
        "entries": entries, "shown": shown, "errors": errors, "as_json": _json,
        "next": "/admin/audit?" + urlencode({**filters, "before_id": entries[-1].id})
        if more else None}, status)
