"""The admin's user source sync on demand: preview (Users, read), then apply (Users,
write), with the bulk delete of users gone from the directory only when asked. Each
applied sync is audited with its counts. A directory that cannot be read is
``Unavailable`` (nothing written, nothing deleted)."""

from __future__ import annotations

from dataclasses import dataclass

from ippproxy.accounting import AccountingError
from ippproxy.accounting.sync_plan import SyncPlan
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


class UserSync:
    """Blocking (LDAP and the database): the web layer calls it in a thread."""

    def __init__(self, sync: DirectorySync | None, audit: AuditSink) -> None:
        self.sync = sync
        self.audit = audit

    def _ready(self, actor: Actor, access: Access) -> DirectorySync:
        if not actor.may(Section.USERS, access):
            raise Forbidden(f"the user source sync needs {access.name.lower()} access to "
                            "users")
        if self.sync is None:
            raise NotFound("user source", "ldap")
        return self.sync

    def preview(self, actor: Actor) -> SyncPlan:
        sync = self._ready(actor, Access.READ)
        try:
            return sync.preview()
        except DirectoryError as e:
            raise Unavailable(str(e)) from None

    def apply(self, actor: Actor, *, delete_missing: bool = False) -> SyncOutcome:
        sync = self._ready(actor, Access.WRITE)
        try:
            result = sync.apply(delete_missing=delete_missing, actor=actor.name)
        except DirectoryError as e:
            raise Unavailable(str(e)) from None
        except AccountingError as e:
            raise Conflict(str(e)) from None
        if result.applied:
            self.audit.record(entry(actor, "users.sync", "user-source:ldap", None,
                                    {**result.plan.summary(), "deleted": result.deleted}))
        return SyncOutcome(result.plan, result.applied, result.deleted)
