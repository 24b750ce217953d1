"""``/api/v1/directory`` (the user source's settings and last sync), ``/directory/preview``
(what a sync would add, change and delete, paged) and ``/directory/apply`` (the sync; the
bulk delete only with ``delete_missing``), over ``services.user_sync``. Applied and
failed syncs are audited by the service; a directory that is down answers 503 with the
reason (nothing changed)."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import Any

from ippproxy.accounting.sync_plan import SyncPlan
from ippproxy.services.actor import Access, Section
from ippproxy.services.errors import NotFound
from ippproxy.services.user_sync import UserSync
from ippproxy.web import directory_models as dm
from ippproxy.web.api import Call, Operation


def _sync(call: Call) -> UserSync:
    if call.services.user_sync is None:
        raise NotFound("user source", "ldap (no [ldap] url, or accounting is off)")
    return call.services.user_sync


def preview_page(plan: SyncPlan, offset: int, limit: int) -> dict[str, Any]:
    """The plan's lists cut to one page (the admin page shows the same)."""
    end = offset + limit
    return {
        "adds": [{"name": u.name, "full_name": u.full_name, "email": u.email,
                  "groups": sorted(u.groups)} for u in plan.adds[offset:end]],
        "changes": [{"name": c.name,
                     "fields": [{"field": f.value, "old": o, "new": n}
                                for f, (o, n) in c.fields.items()],
                     "join": sorted(c.join), "leave": sorted(c.leave)}
                    for c in plan.changes[offset:end]],
        "deletes": list(plan.deletes[offset:end]), "new_groups": list(plan.new_groups),
        "warnings": list(plan.warnings), "totals": plan.summary(),
        "offset": offset, "limit": limit}


async def get_directory(call: Call) -> Any:
    svc, who = _sync(call), call.who()
    source = await asyncio.to_thread(svc.source, who)
    status = await asyncio.to_thread(svc.status, who)
    return {"source": asdict(source), "last_sync": None if status is None else asdict(status)}


async def preview_sync(call: Call) -> Any:
    q: dm.PreviewQuery = call.query
    plan = await asyncio.to_thread(_sync(call).preview, call.who(), reuse=q.offset > 0)
    return preview_page(plan, q.offset, q.limit)


async def apply_sync(call: Call) -> Any:
    body: dm.ApplyIn = call.body
    done = await asyncio.to_thread(_sync(call).apply, call.who(),
                                   delete_missing=body.delete_missing)
    return {"applied": done.applied, "deleted": done.deleted,
            "counts": done.plan.summary(), "warnings": list(done.plan.warnings)}


# 404: no directory configured; 503: the directory cannot be read now (nothing changed).
_NO_SOURCE = (404, 503)
OPERATIONS = (
    Operation("GET", "/directory", get_directory,
              "The user source: its settings (no password), the fields a sync may overwrite "
              "and the last sync's status", "directory", Section.USERS, Access.READ,
              response=dm.DirectoryOut, more_errors=_NO_SOURCE),
    Operation("GET", "/directory/preview", preview_sync,
              "What a sync would add, change and delete now (paged lists; nothing written; a "
              "further page, offset > 0, reuses this node's last preview for 5 minutes)",
              "directory", Section.USERS, Access.READ, query=dm.PreviewQuery,
              response=dm.PreviewOut, more_errors=_NO_SOURCE),
    Operation("POST", "/directory/apply", apply_sync,
              "Sync now; users gone from the directory are deleted only with "
              "delete_missing (audited)", "directory", Section.USERS, Access.WRITE,
              body=dm.ApplyIn, response=dm.ApplyOut, more_errors=_NO_SOURCE),
)
