"""The audit log: every change made through the services, newest first, filtered by
actor, kind, object name, action and time, paged by ``before_id`` (the last id seen)."""

from __future__ import annotations

from ippproxy.catalog import AuditEntry, AuditQuery, Catalog

from .actor import Access, Actor, Section
from .changes import require, run
from .errors import Invalid


class AuditService:
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    async def list(self, actor: Actor, query: AuditQuery | None = None) -> list[AuditEntry]:
        require(actor, Section.AUDIT, Access.READ)
        query = query or AuditQuery()
        if not 1 <= query.limit <= 1000:
            raise Invalid("limit", "between 1 and 1000")
        if query.since and query.until and query.since >= query.until:
            raise Invalid("since", "must be before until")
        return await run(lambda: self.catalog.audit_log(query))
