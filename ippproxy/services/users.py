"""The admin's reads of users, groups, accounts and transactions, and balance adjustments.

Users and groups are the ``users`` section; accounts, transactions and adjustments the
``finance`` section. An adjustment is a ledger row with its reason (``accounting.admin``),
never an overwrite of the balance; a retried request with the same ``key`` is applied once.
Blocking (database): the web layer calls these in a thread.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine

from ippproxy.accounting import admin as accounting_admin
from ippproxy.accounting import directory
from ippproxy.accounting.directory import Page
from ippproxy.accounting.errors import AccountingError
from ippproxy.accounting.identity import canonical_name
from ippproxy.accounting.txn import in_transaction
from ippproxy.services.actor import Access, Actor, Section
from ippproxy.services.auditsink import AuditSink, entry
from ippproxy.services.errors import Forbidden, Invalid, NotFound

T = TypeVar("T")
MAX_LIMIT = 500
MAX_ADJUST = 10**12  # minor units; far beyond any real correction


def _require(actor: Actor, section: Section, access: Access) -> None:
    if not actor.may(section, access):
        raise Forbidden(f"{access.name.lower()} access to {section} is needed")


def check_page(page: Page, sorts: dict[str, Any]) -> None:
    if not 1 <= page.limit <= MAX_LIMIT:
        raise Invalid("limit", f"between 1 and {MAX_LIMIT}")
    if page.offset < 0:
        raise Invalid("offset", "zero or more")
    if page.sort and page.sort not in sorts:
        raise Invalid("sort", f"one of {', '.join(sorted(sorts))}")


def _name(field: str, raw: str) -> str:
    try:
        return canonical_name(raw)
    except ValueError as e:
        raise Invalid(field, str(e)) from None


def _account_id(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise NotFound("account", raw) from None


class Users:
    def __init__(self, engine: Engine, audit: AuditSink) -> None:
        self.engine = engine
        self.audit = audit

    def _read(self, work: Callable[[Connection], T]) -> T:
        with self.engine.connect() as conn:
            return work(conn)

    def list_users(self, actor: Actor, page: Page, *, search: str | None = None,
                   group: str | None = None, admin: bool | None = None
                   ) -> tuple[list[dict[str, Any]], int]:
        _require(actor, Section.USERS, Access.READ)
        check_page(page, directory.USER_SORTS)
        g = _name("group", group) if group else None
        return self._read(lambda c: directory.users_page(c, page, search=search, group=g,
                                                         admin=admin))

    def get_user(self, actor: Actor, username: str) -> dict[str, Any]:
        _require(actor, Section.USERS, Access.READ)
        name = _name("username", username)
        found = self._read(lambda c: directory.user(c, name))
        if found is None:
            raise NotFound("user", name)
        return found

    def list_groups(self, actor: Actor) -> list[dict[str, Any]]:
        _require(actor, Section.USERS, Access.READ)
        return self._read(directory.groups)

    def list_accounts(self, actor: Actor, page: Page, *, kind: str | None = None
                      ) -> tuple[list[dict[str, Any]], int]:
        _require(actor, Section.FINANCE, Access.READ)
        check_page(page, directory.ACCOUNT_SORTS)
        if kind not in (None, "personal", "shared"):
            raise Invalid("kind", "personal or shared")
        return self._read(lambda c: directory.accounts_page(c, page, kind=kind))

    def get_account(self, actor: Actor, account_id: str) -> dict[str, Any]:
        _require(actor, Section.FINANCE, Access.READ)
        aid = _account_id(account_id)
        found = self._read(lambda c: directory.account(c, aid))
        if found is None:
            raise NotFound("account", account_id)
        return found

    def transactions(self, actor: Actor, account_id: str, page: Page, *,
                     kind: str | None = None) -> tuple[list[dict[str, Any]], int]:
        self.get_account(actor, account_id)
        check_page(page, directory.LEDGER_SORTS)
        aid = _account_id(account_id)
        return self._read(lambda c: directory.ledger_page(c, aid, page, kind=kind))

    def newest_transactions(self, actor: Actor, account_id: str, *, offset: int = 0,
                            limit: int = 50) -> tuple[list[dict[str, Any]], int]:
        """``transactions`` newest first (the admin's transactions page)."""
        return self.transactions(actor, account_id, Page(offset=offset, limit=limit,
                                                         sort="id", descending=True))

    def adjust(self, actor: Actor, account_id: str, amount: int, reason: str,
               key: str | None = None) -> dict[str, Any]:
        """Add ``amount`` (minor units, negative to debit) with a reason: one ledger row."""
        _require(actor, Section.FINANCE, Access.WRITE)
        if amount == 0 or abs(amount) > MAX_ADJUST:
            raise Invalid("amount", f"non-zero, at most {MAX_ADJUST} in either direction")
        if not reason.strip() or len(reason) > 500:
            raise Invalid("reason", "1 to 500 characters")
        before = self.get_account(actor, account_id)
        aid = _account_id(account_id)

        def work(conn: Connection) -> Any:
            return accounting_admin.adjust_balance(conn, aid, amount, reason=reason.strip(),
                                                   actor=actor.name, key=key)
        try:
            posting = in_transaction(self.engine, work)
        except AccountingError as e:
            raise Invalid("amount", str(e)) from None
        after = self.get_account(actor, account_id)
        if not posting.replayed:
            self.audit.record(entry(actor, "account.adjust", f"account:{aid}",
                                    {"balance": before["balance"]},
                                    {"balance": after["balance"], "amount": amount,
                                     "reason": reason.strip()}))
        return after
