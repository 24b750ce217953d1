"""Job charges: one row per job UUID in ``acct_job_charges``, its states, and what a
caller is told about it (:class:`Charge`).

A charge is ``reserved`` when the job's price is debited at intake, then ``settled``
(printed, fully or partly) or ``refunded`` (nothing printed), once (service.py and
settlement.py). The functions here read and write the row on a connection inside the
caller's transaction; a row to be changed is read with :func:`find` ``lock=True``
(``FOR UPDATE`` on PostgreSQL; SQLite's BEGIN IMMEDIATE already holds the database).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Connection,
    bindparam,
    insert,
    literal,
    not_,
    select,
    tuple_,
    update,
)

from ippproxy.accounting.ledger import (
    Beside,
    Kind,
    Locked,
    Posting,
    apply,
    lock_account,
    post,
    posted_beside,
)
from ippproxy.accounting.models import ACCOUNTS, CHARGES
from ippproxy.db.base import utcnow
from ippproxy.db.prepared import Prepared


class ChargeState(StrEnum):
    RESERVED = "reserved"  # debited at intake, outcome unknown
    SETTLED = "settled"  # printed (fully or partly); final
    REFUNDED = "refunded"  # nothing printed; charge returned


class Outcome(StrEnum):
    COMPLETED = "completed"
    CANCELED = "canceled"
    ABORTED = "aborted"


@dataclass(frozen=True)
class Charge:
    job_uuid: uuid.UUID
    account_id: uuid.UUID
    user_id: uuid.UUID
    printer: str
    state: ChargeState
    estimate: int
    charged: int  # net amount debited for this job now
    refunded: int  # admin refunds so far
    balance: int  # account balance after this operation
    currency: str
    replayed: bool = False  # True: nothing changed (duplicate request or event)


JobId = uuid.UUID | str
# A charge row as find() reads it, by column name, with "account_balance" and
# "account_currency" of its account.
ChargeRow = Mapping[str, Any]


def job_id(value: JobId) -> uuid.UUID:
    """Job UUIDs arrive as ``uuid.UUID`` or as text (the job store keeps strings)."""
    return value if isinstance(value, uuid.UUID) else uuid.UUID(value)


# Built once: building a statement costs more than running it on SQLite.
_FIND = (select(CHARGES, ACCOUNTS.c.balance.label("account_balance"),
                ACCOUNTS.c.currency.label("account_currency"))
         .join(ACCOUNTS, ACCOUNTS.c.id == CHARGES.c.account_id)
         .where(CHARGES.c.job_uuid == bindparam("job")))
_FIND_KEYS = tuple(_FIND.selected_columns.keys())
# The settlement's statements run through Prepared (bench_intake --ledger-only).
_FIND_P = Prepared(_FIND)
_FIND_LOCKED_P = Prepared(_FIND.with_for_update(of=CHARGES))
# Every column, so that no Python-side default needs SQLAlchemy's execution (prepared.py).
_INSERT = Prepared(insert(CHARGES), columns=[c.key for c in CHARGES.columns])
_INSERT_DEBITED = posted_beside(CHARGES)   # PostgreSQL: the row in the debit's statement
_CLOSE = Prepared(update(CHARGES).where(CHARGES.c.job_uuid == bindparam("job"))
                  .values(state=bindparam("new_state"), charged=bindparam("new_charged"),
                          reported_impressions=bindparam("reported"),
                          updated_at=bindparam("now")))


def find(conn: Connection, job_uuid: uuid.UUID, lock: bool) -> ChargeRow | None:
    """The charge row with its account's balance and currency (``account_balance``,
    ``account_currency``: read, not locked); ``lock`` locks the charge row only."""
    stmt = _FIND_LOCKED_P if lock and conn.dialect.name != "sqlite" else _FIND_P
    row = stmt.first(conn, {"job": job_uuid})
    return None if row is None else dict(zip(_FIND_KEYS, row, strict=True))


def amounts(conn: Connection, job_uuids: list[uuid.UUID]) -> dict[str, int]:
    """The net amount charged for each of these jobs that has a charge (one query)."""
    if not job_uuids:
        return {}
    rows = conn.execute(select(CHARGES.c.job_uuid, CHARGES.c.charged)
                        .where(CHARGES.c.job_uuid.in_(job_uuids)))
    return {str(r[0]): int(r[1]) for r in rows}


def add_reserved(conn: Connection, job_uuid: uuid.UUID, account_id: uuid.UUID,
                 user_id: uuid.UUID, printer: str, amount: int, fee: int,
                 impressions: int, node: str) -> None:
    """The row of a charge just debited by ``node`` (the ledger row is the caller's)."""
    row = reserved_row(job_uuid, account_id, user_id, printer, amount, fee, impressions,
                       node)
    row.alone.run(conn, row.row)


def reserved_row(job_uuid: uuid.UUID, account_id: uuid.UUID, user_id: uuid.UUID,
                 printer: str, amount: int, fee: int, impressions: int, node: str) -> Beside:
    """The row of a charge ``node`` reserves, for the debit that makes it
    (``ledger.debit(beside=)``: on PostgreSQL one statement writes both)."""
    now = utcnow()
    return Beside(_INSERT, _INSERT_DEBITED, {
        "job_uuid": job_uuid, "account_id": account_id, "user_id": user_id,
        "printer": printer, "state": str(ChargeState.RESERVED), "estimate": amount,
        "fee": fee, "impressions": impressions, "reported_impressions": None,
        "charged": amount, "refunded": 0, "refunds": 0, "created_at": now,
        "updated_at": now, "node": node, "recorded": False})


def load(row: ChargeRow, replayed: bool = False, balance: int | None = None) -> Charge:
    """The charge of ``row`` (from :func:`find`) with its account's balance (or
    ``balance``) and currency."""
    return Charge(row["job_uuid"], row["account_id"], row["user_id"], row["printer"],
                  ChargeState(row["state"]), row["estimate"], row["charged"], row["refunded"],
                  row["account_balance"] if balance is None else balance,
                  row["account_currency"], replayed)


def post_for(conn: Connection, c: ChargeRow, amount: int, kind: Kind, key: str,
             reason: str, actor: str, exponent: int) -> Posting:
    """A ledger row on the charge's account, tied to its job (``key`` looked up first)."""
    return post(conn, c["account_id"], amount, kind=kind, key=key, reason=reason,
                actor=actor, job_uuid=c["job_uuid"], exponent=exponent)


def post_outcome(conn: Connection, c: ChargeRow, amount: int, kind: Kind, key: str,
                 reason: str, exponent: int) -> Posting:
    """The posting that moves a charge out of ``reserved`` (the charge row locked and
    still reserved): its key is new, since a key of this kind is only ever written in the
    transaction that moves the charge out of ``reserved`` (ledger.apply)."""
    acct = lock_account(conn, c["account_id"])._mapping
    return apply(conn, Locked(c["account_id"], acct["balance"], acct["currency"],
                              acct["restricted"], acct["credit_limit"]),
                 amount, kind=kind, key=key, reason=reason, actor="system",
                 job_uuid=c["job_uuid"], exponent=exponent)


def close(conn: Connection, row: ChargeRow, state: ChargeState, charged: int,
          impressions: int | None, p: Posting | None) -> Charge:
    """The charge's outcome: ``state`` with its final ``charged`` amount."""
    _CLOSE.run(conn, {"job": row["job_uuid"], "new_state": str(state),
                      "new_charged": charged, "reported": impressions, "now": utcnow()})
    return replace(load(row), state=state, charged=charged,
                   balance=p.balance_after if p else row["account_balance"])


def add_refund(conn: Connection, c: ChargeRow, value: int) -> None:
    """An admin refund of ``value`` counted on the charge."""
    conn.execute(update(CHARGES).where(CHARGES.c.job_uuid == c["job_uuid"]).values(
        charged=c["charged"] - value, refunded=c["refunded"] + value,
        refunds=c["refunds"] + 1, updated_at=utcnow()))


@dataclass(frozen=True)
class Reservation:
    """A charge still reserved: its job, when and by which node (None: before 0008)."""

    job_uuid: uuid.UUID
    created_at: dt.datetime
    node: str | None


def reserved(conn: Connection, limit: int, after: Reservation | None = None
             ) -> list[Reservation]:
    """Charges still reserved, oldest first; ``after``: the page after that one."""
    stmt = (select(CHARGES.c.job_uuid, CHARGES.c.created_at, CHARGES.c.node)
            .where(CHARGES.c.state == str(ChargeState.RESERVED))
            .order_by(CHARGES.c.created_at, CHARGES.c.job_uuid).limit(limit))
    if after is not None:
        stmt = stmt.where(tuple_(CHARGES.c.created_at, CHARGES.c.job_uuid)
                          > tuple_(literal(after.created_at, CHARGES.c.created_at.type),
                                   literal(after.job_uuid, CHARGES.c.job_uuid.type)))
    rows = conn.execute(stmt)
    return [Reservation(r[0], r[1] if r[1].tzinfo else r[1].replace(tzinfo=dt.UTC), r[2])
            for r in rows]


def unrecorded(conn: Connection, limit: int) -> list[uuid.UUID]:
    """Jobs whose charge is settled or refunded but not yet written back into the job
    (the partial index ix_acct_job_charges_unrecorded)."""
    rows = conn.execute(select(CHARGES.c.job_uuid)
                        .where(not_(CHARGES.c.recorded),
                               CHARGES.c.state != str(ChargeState.RESERVED))
                        .limit(limit))
    return [r[0] for r in rows]


def mark_recorded(conn: Connection, job_uuids: list[uuid.UUID]) -> None:
    """The jobs show their charged amount now (or are gone: nothing to show it on)."""
    if job_uuids:
        conn.execute(update(CHARGES).where(CHARGES.c.job_uuid.in_(job_uuids))
                     .values(recorded=True))
