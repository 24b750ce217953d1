"""The admin's user source sync on demand: preview (Users, read), then apply (Users,
write), with the bulk delete of users gone from the directory only when asked. Each
applied sync is audited with its counts, each failed one with its reason. A directory
that cannot be read is ``Unavailable`` (nothing written, nothing deleted).

The last sync's status (when, what it did, or why it failed) for the admin page and
``GET /api/v1/directory``: the newer of this node's last sync (on demand, scheduled or a
preview; ``scheduled`` is what the composition root runs every interval) and the last
audited one of any node (``history``: the audit log, so it survives a restart)."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from ippproxy.accounting import AccountingError
from ippproxy.accounting.sync_plan import SyncPlan
from ippproxy.catalog import AuditEntry
from ippproxy.db.base import utcnow
from ippproxy.directory import DirectoryError
from ippproxy.directory.sync import DirectorySync
from ippproxy.services.actor import Access, Actor, Section
from ippproxy.services.auditsink import AuditSink, entry
from ippproxy.services.errors import Conflict, Forbidden, NotFound, Unavailable


@dataclass(frozen=True)
class SyncOutcome:
    plan: SyncPlan
    applied: bool
    deleted: int


@dataclass(frozen=True)
class SyncStatus:
    """The last sync of this node: ``error`` "" when it worked."""

    at: dt.datetime
    kind: str  # "preview", "apply" or "scheduled"
    counts: dict[str, int] = field(default_factory=dict)
    error: str = ""


@dataclass(frozen=True)
class SourceView:
    """The connection settings as an admin may see them: never the bind password."""

    url: str
    tls: str
    base_dn: str
    bind_dn: str
    user_filter: str
    group_base_dn: str
    attributes: dict[str, str]
    nested_groups: bool
    timeout: float
    overwrite: tuple[str, ...]


SCHEDULED = "scheduled directory sync"  # the actor of scheduled syncs
PREVIEW_TTL = 300.0  # seconds a preview's plan serves its further pages



class UserSync:
    """Blocking (LDAP and the database): the web layer calls it in a thread."""

    def __init__(self, sync: DirectorySync | None, audit: AuditSink,
                 history: Callable[[], list[AuditEntry]] | None = None) -> None:
        self.sync = sync
        self.audit = audit
        # The newest audited syncs (kind "directory"), newest first; None: this node only.
        self.history = history
        self._lock = threading.Lock()
        self._status: SyncStatus | None = None
        self._preview: tuple[dt.datetime, SyncPlan] | None = None

    def _ready(self, actor: Actor, access: Access) -> DirectorySync:
        if not actor.may(Section.USERS, access):
            raise Forbidden(f"the user source sync needs {access.name.lower()} access to "
                            "users")
        if self.sync is None:
            raise NotFound("user source", "ldap")
        return self.sync

    def _remember(self, kind: str, counts: dict[str, int], error: str = "") -> None:
        with self._lock:
            self._status = SyncStatus(utcnow(), kind, counts, error)

    def status(self, actor: Actor) -> SyncStatus | None:
        self._ready(actor, Access.READ)
        with self._lock:
            mine = self._status
        audited = None
        for e in self.history() if self.history is not None else []:
            if e.action in ("users.sync", "users.sync-failed"):
                after = e.after if isinstance(e.after, dict) else {}
                at = e.at if e.at.tzinfo else e.at.replace(tzinfo=dt.UTC)
                kind = "scheduled" if e.actor == SCHEDULED else "apply"
                audited = (SyncStatus(at, kind, {k: v for k, v in after.items()
                                                 if isinstance(v, int)})
                           if e.action == "users.sync"
                           else SyncStatus(at, kind, {}, str(after.get("reason", ""))))
                break
        if mine is None or (audited is not None and audited.at > mine.at):
            return audited
        return mine

    def source(self, actor: Actor) -> SourceView:
        s = self._ready(actor, Access.READ).settings
        a = s.attributes
        return SourceView(
            url=s.url, tls=s.tls.value, base_dn=s.base_dn, bind_dn=s.bind_dn or "(anonymous)",
            user_filter=s.user_filter, group_base_dn=s.group_base_dn or s.base_dn,
            attributes={"id": a.id, "name": a.name, "email": a.email,
                        "card-number": a.card_number or "(not synced)",
                        "id-number": a.id_number or "(not synced)"},
            nested_groups=s.nested_groups, timeout=s.timeout,
            overwrite=tuple(sorted(f.value for f in s.overwrite)))

    def _failed(self, actor: Actor, kind: str, reason: str) -> None:
        self._remember(kind, {}, reason)
        if kind != "preview":
            self.audit.record(entry(actor, "users.sync-failed", "directory:ldap", None,
                                    {"reason": reason}))

    def preview(self, actor: Actor, *, reuse: bool = False) -> SyncPlan:
        """What a sync would do now. ``reuse``: the plan of this node's last preview when
        it is younger than ``PREVIEW_TTL`` (the next page of the same preview, not another
        read of a large directory)."""
        sync = self._ready(actor, Access.READ)
        if reuse:
            with self._lock:
                cached = self._preview
            if cached is not None and (utcnow() - cached[0]).total_seconds() < PREVIEW_TTL:
                return cached[1]
        try:
            plan = sync.preview()
        except DirectoryError as e:
            self._failed(actor, "preview", f"{e}; nothing was changed")
            raise Unavailable(f"{e}; nothing was changed") from None
        self._remember("preview", plan.summary())
        with self._lock:
            self._preview = (utcnow(), plan)
        return plan

    def apply(self, actor: Actor, *, delete_missing: bool = False,
              kind: str = "apply") -> SyncOutcome:
        sync = self._ready(actor, Access.WRITE)
        try:
            result = sync.apply(delete_missing=delete_missing, actor=actor.name)
        except DirectoryError as e:
            self._failed(actor, kind, f"{e}; nothing was changed or deleted")
            raise Unavailable(f"{e}; nothing was changed or deleted") from None
        except AccountingError as e:
            self._failed(actor, kind, f"{e}; nothing was changed or deleted")
            raise Conflict(str(e)) from None
        counts = {**result.plan.summary(), "deleted": result.deleted}
        self._remember(kind, counts)
        if result.applied:
            self.audit.record(entry(actor, "users.sync", "directory:ldap", None, counts))
        return SyncOutcome(result.plan, result.applied, result.deleted)

    def scheduled(self) -> SyncOutcome | None:
        """The scheduled sync (never a bulk delete); None when it failed (recorded)."""
        try:
            return self.apply(Actor.system(SCHEDULED), kind="scheduled")
        except (Unavailable, Conflict):
            return None


async def run_scheduled(svc: UserSync, interval: float) -> None:
    """Every ``interval`` seconds, in a thread: ``svc.scheduled`` (its status recorded)."""
    while True:
        await asyncio.to_thread(svc.scheduled)
        await asyncio.sleep(interval)
