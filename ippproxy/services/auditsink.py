"""Where the services report each change they make (issue 13: every admin change writes an
audit entry: who, when, what, before and after).

The audit log proper (a table, its REST resource and page) is built beside this module in
``services/audit.py``; until the two meet, the services of admin authentication, jobs and
accounts write through this protocol, and the composition root hands them a sink. The
default one writes each entry as one JSON line to the ``ippproxy.audit`` logger.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

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
