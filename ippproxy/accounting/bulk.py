"""Many users at once, for benchmarks: a directory of 100,000 users with their personal
accounts and group memberships made in seconds, not one ``add_user`` at a time.

Rows go in with one driver ``executemany`` per chunk. A user's starting balance is the
account's ``opening_balance`` (an import from another system), so the ledger invariant
(``balance == opening_balance + sum(ledger)``, models.py) holds with no ledger rows.
Names are canonicalised as ``add_user`` does; they must be new. Not for the server's own
paths (no audit, no roles).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any

from sqlalchemy import Engine, insert, select

from ippproxy.accounting.identity import canonical_name
from ippproxy.accounting.models import ACCOUNTS, GROUPS, MEMBERS, USERS
from ippproxy.db.base import utcnow


@dataclass(frozen=True)
class BulkUser:
    username: str
    email: str | None = None
    full_name: str = ""
    internal: bool = False
    admin: bool = False
    disabled: bool = False
    deleted: bool = False
    balance: int = 0
    currency: str = "EUR"
    groups: tuple[str, ...] = ()
    created_at: dt.datetime | None = None


def _chunks(items: Iterable[BulkUser], size: int) -> Iterator[list[BulkUser]]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def insert_users(engine: Engine, people: Iterable[BulkUser], *, chunk: int = 10000) -> int:
    """Store ``people`` (new names), each with a personal account; groups named by a user
    are made when missing. Returns how many users."""
    total = 0
    groups: dict[str, uuid.UUID] = {}
    with engine.connect() as conn:
        groups.update({n: i for i, n in conn.execute(select(GROUPS.c.id, GROUPS.c.name))
                       .tuples()})
    for part in _chunks(people, chunk):
        now = utcnow()
        users: list[dict[str, Any]] = []
        accounts: list[dict[str, Any]] = []
        members: list[dict[str, Any]] = []
        new_groups: list[dict[str, Any]] = []
        for p in part:
            uid, name = uuid.uuid4(), canonical_name(p.username)
            when = p.created_at or now
            users.append({"id": uid, "username": name, "internal": p.internal,
                          "password_hash": None, "full_name": p.full_name, "email": p.email,
                          "card_number": None, "admin": p.admin,
                          "disabled": p.disabled or p.deleted, "created_at": when,
                          "deleted_at": now if p.deleted else None})
            accounts.append({"id": uuid.uuid4(), "kind": "personal", "owner_id": uid,
                             "name": name, "currency": p.currency,
                             "opening_balance": p.balance, "balance": p.balance,
                             "restricted": True, "credit_limit": 0,
                             "disabled": p.deleted, "created_at": when})
            for g in p.groups:
                gname = canonical_name(g)
                if gname not in groups:
                    groups[gname] = uuid.uuid4()
                    new_groups.append({"id": groups[gname], "name": gname,
                                       "created_at": now})
                members.append({"group_id": groups[gname], "user_id": uid})
        with engine.begin() as conn:
            if new_groups:
                conn.execute(insert(GROUPS), new_groups)
            conn.execute(insert(USERS), users)
            conn.execute(insert(ACCOUNTS), accounts)
            if members:
                conn.execute(insert(MEMBERS), members)
        total += len(part)
    return total
