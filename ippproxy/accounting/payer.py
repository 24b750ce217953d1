"""Who pays for a job, read in one statement: the user, the personal account and whether
the job already has a charge; and a user's groups with the user, in one.

The reserve transaction (service.py) used to read the charge, the user, the account, the
account again under its lock and the user's groups one statement each; these are the
same reads joined. On PostgreSQL, where each statement is a round trip, a batch of the
job store's writer reads the payers of all its reservations in one (:func:`find_payers`;
``service.read_payers_ahead``). Nothing is locked here: the debit's own statement locks
the account (``ledger.debit``, to COMMIT), so the next charge to the same account does
not wait for this read and the charge row's insert. The statements are built and
compiled once, and run with the driver's cursor (db/prepared.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ARRAY,
    Connection,
    String,
    Uuid,
    and_,
    bindparam,
    column,
    exists,
    func,
    select,
)

from ippproxy.accounting.identity import canonical_name
from ippproxy.accounting.models import ACCOUNTS, CHARGES, GROUPS, MEMBERS, USERS
from ippproxy.db.prepared import Prepared


@dataclass(frozen=True)
class Payer:
    user_id: uuid.UUID
    username: str
    disabled: bool
    account_id: uuid.UUID    # the personal account
    currency: str
    charged: bool  # the job has a charge already (a replay)


_EXISTING = (select(CHARGES.c.job_uuid).where(CHARGES.c.job_uuid == bindparam("job"))
             .scalar_subquery())
# A Payer's columns but the last (whether the job is charged), in its order.
_COLUMNS = (USERS.c.id, USERS.c.username, USERS.c.disabled, ACCOUNTS.c.id,
            ACCOUNTS.c.currency)
_PAYER = Prepared(select(*_COLUMNS, _EXISTING.is_not(None))
                  .join(ACCOUNTS, ACCOUNTS.c.owner_id == USERS.c.id)
                  .where(USERS.c.username == bindparam("name"), USERS.c.deleted_at.is_(None),
                         ACCOUNTS.c.kind == "personal"))
_GROUPS = Prepared(select(USERS.c.disabled, GROUPS.c.name, USERS.c.id)
                   .outerjoin(MEMBERS, MEMBERS.c.user_id == USERS.c.id)
                   .outerjoin(GROUPS, GROUPS.c.id == MEMBERS.c.group_id)
                   .where(USERS.c.username == bindparam("name"),
                          USERS.c.deleted_at.is_(None)))


def find_payer(conn: Connection, username: str, job_uuid: uuid.UUID) -> Payer | None:
    """The live user ``username`` with its personal account; None: no such user."""
    row = _PAYER.first(conn, {"name": canonical_name(username), "job": job_uuid})
    return None if row is None else _payer(row)


def _payer(row: Sequence[Any]) -> Payer:
    """A Payer from a row of ``_COLUMNS`` and the charged flag."""
    user_id, name, disabled, account_id, currency, charged = row
    return Payer(user_id, name, bool(disabled), account_id, currency, bool(charged))


# PostgreSQL: _PAYER for many (name, job) pairs at once, the pairs as two arrays unnested
# side by side, numbered (WITH ORDINALITY) so that each row says which pair it answers.
_WANTED = func.unnest(bindparam("names", type_=ARRAY(String)),
                      bindparam("jobs", type_=ARRAY(Uuid))).table_valued(
    column("name", String), column("job", Uuid), with_ordinality="n").render_derived("wanted")
_PAYERS = Prepared(
    select(_WANTED.c.n, *_COLUMNS, exists().where(CHARGES.c.job_uuid == _WANTED.c.job))
    .select_from(_WANTED.join(USERS, and_(USERS.c.username == _WANTED.c.name,
                                          USERS.c.deleted_at.is_(None)))
                 .join(ACCOUNTS, and_(ACCOUNTS.c.owner_id == USERS.c.id,
                                      ACCOUNTS.c.kind == "personal"))))


def find_payers(conn: Connection, wanted: list[tuple[str, uuid.UUID]]
                ) -> list[Payer | None]:
    """:func:`find_payer` of each (username, job) in ``wanted``, in one statement
    (PostgreSQL only: it unnests arrays)."""
    found: list[Payer | None] = [None] * len(wanted)
    rows = _PAYERS.rows(conn, {"names": [canonical_name(n) for n, _ in wanted],
                               "jobs": [j for _, j in wanted]})
    for n, *row in rows:
        found[n - 1] = _payer(row)
    return found


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
