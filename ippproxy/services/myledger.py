"""What the user web app shows of a user's own money (issue 17 §8), no HTTP: the
transactions of their personal account, a page at a time, and what each of their jobs
cost. Blocking (database): the web layer calls these in a thread.

Only the actor's own personal account is read (by their canonical name, never by an id
the client sends), so nobody sees another user's ledger rows. A page ends where the next
begins: ``before`` is the ledger id of the last row shown (ids only grow, so pages
neither repeat nor skip a row while new rows arrive; accounting/statement.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from ippproxy.accounting import admin as accounting_admin
from ippproxy.accounting import charges, statement
from ippproxy.accounting.errors import AccountingError
from ippproxy.accounting.money import format_money
from ippproxy.services.actor import Actor

PAGE = 25
MAX_PAGE = 200


@dataclass(frozen=True)
class LedgerPage:
    rows: list[dict[str, Any]]   # newest first: amount, balance_after, kind, reason, ...
    next_before: int | None      # the cursor of the next (older) page; None: the last


class MyLedger:
    def __init__(self, engine: Engine, currency: str, exponent: int) -> None:
        self.engine = engine
        self.currency = currency
        self.exponent = exponent

    def money(self, minor: int, currency: str | None = None) -> str:
        """Exact: ``money(-1234) == "-12.34 EUR"`` (integer minor units, no float)."""
        return format_money(minor, currency or self.currency, self.exponent)

    def transactions(self, actor: Actor, *, before: int | None = None,
                     limit: int = PAGE) -> LedgerPage:
        """The actor's personal account's rows, newest first; empty for one without."""
        limit = max(1, min(limit, MAX_PAGE))
        with self.engine.connect() as conn:
            try:
                account = accounting_admin.account_of(conn, username=actor.name)
            except AccountingError:     # the master admin, or a user never created
                return LedgerPage([], None)
            rows = statement.transactions(conn, account_id=account._mapping["id"],
                                          before=before, limit=limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        return LedgerPage(rows, int(rows[-1]["id"]) if more else None)

    def charged(self, job_uuids: Sequence[str]) -> dict[str, int]:
        """Job UUID -> net amount charged; callers pass only the actor's own jobs."""
        wanted = []
        for u in job_uuids:
            try:
                wanted.append(uuid.UUID(u))
            except ValueError:
                continue
        if not wanted:
            return {}
        with self.engine.connect() as conn:
            return charges.amounts(conn, wanted)
