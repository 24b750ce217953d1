"""Reading the audit log: who changed what, when, through which door, before and after.

Entries are written by ``Tx.audit`` in the transaction of the change they describe.
Listing is newest first, filtered, and paged by keyset: ``before_id`` is the ``id`` of the
last entry of the previous page (stable while new entries arrive, unlike an offset).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select

from .models import audit_log_t

MAX_LIMIT = 1000


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: dt.datetime
    actor: str
    via: str
    action: str
    kind: str
    name: str
    before: Any
    after: Any


@dataclass(frozen=True)
class AuditQuery:
    actor: str | None = None
    kind: str | None = None
    name: str | None = None
    action: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    before_id: int | None = None
    limit: int = 100


def read_audit(conn: Connection, q: AuditQuery) -> list[AuditEntry]:
    t = audit_log_t
    stmt = select(t).order_by(t.c.id.desc()).limit(max(1, min(q.limit, MAX_LIMIT)))
    for column, value in ((t.c.actor, q.actor), (t.c.kind, q.kind), (t.c.name, q.name),
                          (t.c.action, q.action)):
        if value is not None:
            stmt = stmt.where(column == value)
    if q.since is not None:
        stmt = stmt.where(t.c.at >= q.since)
    if q.until is not None:
        stmt = stmt.where(t.c.at < q.until)
    if q.before_id is not None:
        stmt = stmt.where(t.c.id < q.before_id)
    return [AuditEntry(id=r.id, at=r.at, actor=r.actor, via=r.via, action=r.action,
                       kind=r.kind, name=r.name, before=r.before, after=r.after)
            for r in conn.execute(stmt)]


def count_audit(conn: Connection, action: str, since: dt.datetime) -> int:
    """Entries of ``action`` at or after ``since`` (by the index on ``at``)."""
    t = audit_log_t
    return int(conn.execute(select(func.count()).select_from(t).where(
        t.c.at >= since, t.c.action == action)).scalar_one())
