"""User source sync: read the directory, compare with the user store, preview or apply.

``preview`` reads both and returns the plan without writing. ``apply`` reads again and
writes the plan in one transaction; users missing from the directory are deleted only with
``delete_missing`` (the admin's bulk delete). When the directory cannot be read the sync
fails with :class:`DirectoryError` before the store is touched, so nothing is deleted. An
empty plan writes nothing (no transaction that writes is opened).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Engine

from ippproxy.accounting import sync_apply, users
from ippproxy.accounting.sync_plan import SyncPlan, plan
from ippproxy.accounting.txn import in_transaction
from ippproxy.directory import source
from ippproxy.directory.settings import LdapSettings


@dataclass(frozen=True)
class SyncResult:
    plan: SyncPlan
    applied: bool
    deleted: int


class DirectorySync:
    def __init__(self, engine: Engine, settings: LdapSettings,
                 defaults: users.UserDefaults) -> None:
        self.engine = engine
        self.settings = settings
        self.defaults = defaults

    def _plan(self, conn: Connection, listing: source.Listing) -> SyncPlan:
        stored, synced, known = sync_apply.records(conn)
        p = plan(listing.users, listing.groups, stored, synced, known,
                 self.settings.overwrite)
        return SyncPlan(p.adds, p.changes, p.deletes, p.new_groups,
                        listing.warnings + p.warnings)

    def preview(self) -> SyncPlan:
        """What a sync would add, change and delete. Blocking; raises DirectoryError."""
        listing = source.read(self.settings)
        with self.engine.connect() as conn:
            return self._plan(conn, listing)

    def apply(self, *, delete_missing: bool = False, actor: str = "directory sync"
              ) -> SyncResult:
        """Sync now. Blocking; raises DirectoryError (nothing written) or
        accounting.InvalidOperation (a clash; nothing written)."""
        listing = source.read(self.settings)
        with self.engine.connect() as conn:
            first = self._plan(conn, listing)
        if first.is_empty(with_deletes=delete_missing):
            return SyncResult(first, False, 0)

        def work(conn: Connection) -> SyncPlan:
            p = self._plan(conn, listing)  # again, under the write transaction
            sync_apply.apply(conn, p, defaults=self.defaults, delete_missing=delete_missing,
                             actor=actor)
            return p
        done = in_transaction(self.engine, work)
        return SyncResult(done, True, len(done.deletes) if delete_missing else 0)
