"""The jobs a rule refused a user (issue 17 §8: "denied because ..." among the user's
recent notices), no HTTP. A denied job is never stored (services/denials.py): its trace is
the audit entry ``job.deny`` with the user as the actor, the queue and the rule's reason.
Only entries whose actor is the asking user are read. Blocking: call it in a thread."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from ippproxy.catalog import AuditEntry, AuditQuery
from ippproxy.services.actor import Actor
from ippproxy.services.denials import ACTION


@dataclass(frozen=True)
class Denial:
    at: dt.datetime
    printer: str
    reason: str


class MyDenials:
    def __init__(self, read: Callable[[AuditQuery], list[AuditEntry]]) -> None:
        self.read = read     # Catalog.audit_log

    def recent(self, actor: Actor, limit: int = 10) -> list[Denial]:
        found = self.read(AuditQuery(actor=actor.name, action=ACTION,
                                     limit=max(1, min(limit, 100))))
        return [Denial(e.at, e.name, str((e.after or {}).get("reason", "")))
                for e in found if e.actor == actor.name]
