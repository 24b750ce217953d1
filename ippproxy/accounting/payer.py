"""Who pays for a job, read in one statement: the user, the personal account (locked) and
whether the job already has a charge; and a user's groups with the user, in one.

The reserve transaction (service.py) used to read the charge, the user, the account, the
account again under its lock and the user's groups one statement each; these are the
same reads joined. On PostgreSQL ``FOR UPDATE OF`` the account row takes the lock that
``ledger.lock_account`` takes (the account is the inner side of the join: every user has
a personal account, users.add_user), so the balance read here is the one the debit
applies to (READ COMMITTED re-reads a locked row after the lock wait). On SQLite the
transaction holds the database from ``BEGIN IMMEDIATE``. The statements are built and
compiled once, and run with the driver's cursor (db/prepared.py).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, select

from ippproxy.accounting.identity import canonical_name
from ippproxy.accounting.ledger import Locked
from ippproxy.accounting.models import ACCOUNTS, CHARGES, GROUPS, MEMBERS, USERS
from ippproxy.db.prepared import Prepared


@dataclass(frozen=True)
class Payer:
    user_id: uuid.UUID
    username: str
    disabled: bool
    account: Locked
    charged: bool  # the job has a charge already (a replay)


_EXISTING = (select(CHARGES.c.job_uuid).where(CHARGES.c.job_uuid == bindparam("job"))
             .scalar_subquery())
_PAYER_STMT = (select(USERS.c.id, USERS.c.username, USERS.c.disabled, ACCOUNTS.c.id,
                      ACCOUNTS.c.balance, ACCOUNTS.c.currency, ACCOUNTS.c.restricted,
                      ACCOUNTS.c.credit_limit, _EXISTING.is_not(None))
               .join(ACCOUNTS, ACCOUNTS.c.owner_id == USERS.c.id)
               .where(USERS.c.username == bindparam("name"), USERS.c.deleted_at.is_(None)))
_PAYER = Prepared(_PAYER_STMT)
_PAYER_LOCKED = Prepared(_PAYER_STMT.with_for_update(of=ACCOUNTS))
_GROUPS = Prepared(select(USERS.c.disabled, GROUPS.c.name, USERS.c.id)
                   .outerjoin(MEMBERS, MEMBERS.c.user_id == USERS.c.id)
                   .outerjoin(GROUPS, GROUPS.c.id == MEMBERS.c.group_id)
                   .where(USERS.c.username == bindparam("name"),
                          USERS.c.deleted_at.is_(None)))


def find_payer(conn: Connection, username: str, job_uuid: uuid.UUID) -> Payer | None:
    """The live user ``username`` with its personal account, locked; None: no such user."""
    stmt = _PAYER if conn.dialect.name == "sqlite" else _PAYER_LOCKED
    row = stmt.first(conn, {"name": canonical_name(username), "job": job_uuid})
    if row is None:
        return None
    (user_id, name, disabled, account_id, balance, currency, restricted, credit_limit,
     charged) = row
    return Payer(user_id, name, bool(disabled),
                 Locked(account_id, balance, currency, bool(restricted), credit_limit),
                 bool(charged))


def live_groups(conn: Connection, username: str) -> frozenset[str] | None:
    """The groups of the live, enabled user ``username``; None: unknown or disabled."""
    found = live_user(conn, username)
    return None if found is None else found[1]


def live_user(conn: Connection, username: str) -> tuple[uuid.UUID, frozenset[str]] | None:
    """The id and groups of the live, enabled user ``username``; None: unknown or disabled."""
    rows = _GROUPS.rows(conn, {"name": canonical_name(username)})
    if not rows or rows[0][0]:
        return None
    return rows[0][2], frozenset(name for _, name, _ in rows if name is not None)
