"""Where the services report each change they make (issue 13: every admin change writes an
audit entry: who, when, what, before and after).

The services of admin authentication, jobs and accounts write through this protocol; the
composition root hands them ``CatalogAudit``, which keeps each entry in the catalog's audit
log (the one ``services/audit.py`` lists, beside the catalog's own changes) and also writes
it as one JSON line to the ``ippproxy.audit`` logger.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from ippproxy.accounting.txn import in_transaction
from ippproxy.catalog import Catalog, Kind
from ippproxy.services.actor import Actor

log = logging.getLogger("ippproxy.audit")


@dataclass(frozen=True)
class AuditEntry:
    actor: str
    via: str
    action: str  # "token.create", "job.cancel", "account.adjust", ...
    target: str  # what was changed: "token:<id>", "job:<uuid>", "account:<name>"
    before: Mapping[str, Any] | None = None
    after: Mapping[str, Any] | None = None
    at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))


class AuditSink(Protocol):
    def record(self, entry: AuditEntry) -> None: ...


def entry(actor: Actor, action: str, target: str, before: Mapping[str, Any] | None = None,
          after: Mapping[str, Any] | None = None) -> AuditEntry:
    return AuditEntry(actor.name, str(actor.via), action, target, before, after)


class LogAudit:
    """Each entry as one JSON line on the ``ippproxy.audit`` logger."""

    def record(self, e: AuditEntry) -> None:
        log.info("audit %s", json.dumps({
            "at": e.at.isoformat(), "actor": e.actor, "via": e.via, "action": e.action,
            "target": e.target, "before": e.before, "after": e.after},
            default=str, sort_keys=True))


class CatalogAudit(LogAudit):
    """Each entry in the catalog's audit log (``target`` is ``"<kind>:<name>"``), and on the
    ``ippproxy.audit`` logger. Blocking: services call it from their worker threads."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    def record(self, e: AuditEntry) -> None:
        kind, _, name = e.target.partition(":")
        # In the engine's group commit (accounting/txn.py): under load (a user answering
        # popups, issue 17) the entries of many requests share one sync of the log.
        in_transaction(self.catalog.engine, self.catalog.recording(
            actor=e.actor[:255], via=e.via[:16], action=e.action[:32], kind=Kind(kind),
            name=name[:255], before=e.before, after=e.after))
        super().record(e)
