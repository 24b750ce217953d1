"""``/api/v1/audit``: the audit log, newest first, filtered by actor, kind, object name,
action and time, paged by keyset (``before_id``: the last id of the previous page); and
``/api/v1/dashboard``: the dashboard's summary (``services.audit``, ``services.reports``)."""

from __future__ import annotations

from typing import Any

from ippproxy.catalog import AuditQuery
from ippproxy.services.actor import Access, Section
from ippproxy.web import catalog_models as c
from ippproxy.web.api import Call, Operation


async def list_audit(call: Call) -> Any:
    q: c.AuditQuery = call.query
    # One more than a page tells whether another follows.
    found = await call.services.catalog.audit.list(call.who(), AuditQuery(
        actor=q.actor, kind=q.kind, name=q.name, action=q.action, since=q.since,
        until=q.until, before_id=q.before_id, limit=q.limit + 1))
    more = len(found) > q.limit
    items = found[:q.limit]
    return {"items": [{"id": e.id, "at": e.at, "actor": e.actor, "via": e.via,
                       "action": e.action, "kind": e.kind, "name": e.name,
                       "before": e.before, "after": e.after} for e in items],
            "next_before_id": items[-1].id if more else None}


async def dashboard(call: Call) -> Any:
    s = await call.services.catalog.reports.summary(call.who())
    return {"pending": s.pending, "held": s.held, "processing": s.processing,
            "printed": s.printed, "pages": s.pages, "canceled": s.canceled,
            "aborted": s.aborted, "denied": s.denied}


OPERATIONS = (
    Operation("GET", "/audit", list_audit, "The audit log: who changed what, before and after",
              "audit", Section.AUDIT, Access.READ, query=c.AuditQuery, response=c.AuditPage),
    Operation("GET", "/dashboard", dashboard, "Jobs waiting now and the last 24 hours",
              "dashboard", Section.PRINTERS, Access.READ, response=c.Summary),
)
