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
from dataclasses import dataclass, replace
from enum import StrEnum

from sqlalchemy import (
    Connection,
    Row,
    RowMapping,
    insert,
    literal,
    not_,
    select,
    tuple_,
    update,
)

from ippproxy.accounting.ledger import Kind, Posting, post
from ippproxy.accounting.models import ACCOUNTS, CHARGES, utcnow


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
ChargeRow = Row[tuple[object, ...]]


def job_id(value: JobId) -> uuid.UUID:
    """Job UUIDs arrive as ``uuid.UUID`` or as text (the job store keeps strings)."""
    return value if isinstance(value, uuid.UUID) else uuid.UUID(value)


def find(conn: Connection, job_uuid: uuid.UUID, lock: bool) -> ChargeRow | None:
    stmt = select(CHARGES).where(CHARGES.c.job_uuid == job_uuid)
    if lock and conn.dialect.name != "sqlite":
        stmt = stmt.with_for_update()
    return conn.execute(stmt).first()


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
    now = utcnow()
    conn.execute(insert(CHARGES).values(
        job_uuid=job_uuid, account_id=account_id, user_id=user_id, printer=printer,
        state=str(ChargeState.RESERVED), estimate=amount, fee=fee, impressions=impressions,
        charged=amount, created_at=now, updated_at=now, node=node))


def load(conn: Connection, row: ChargeRow, replayed: bool = False,
         balance: int | None = None) -> Charge:
    """The charge of ``row`` with its account's balance (or ``balance``) and currency."""
    c = row._mapping
    acct = conn.execute(select(ACCOUNTS.c.balance, ACCOUNTS.c.currency)
                        .where(ACCOUNTS.c.id == c["account_id"])).one()
    return Charge(c["job_uuid"], c["account_id"], c["user_id"], c["printer"],
                  ChargeState(c["state"]), c["estimate"], c["charged"], c["refunded"],
                  acct[0] if balance is None else balance, acct[1], replayed)


def post_for(conn: Connection, c: RowMapping, amount: int, kind: Kind, key: str,
             reason: str, actor: str, exponent: int) -> Posting:
    """A ledger row on the charge's account, tied to its job."""
    return post(conn, c["account_id"], amount, kind=kind, key=key, reason=reason,
                actor=actor, job_uuid=c["job_uuid"], exponent=exponent)


def close(conn: Connection, row: ChargeRow, state: ChargeState, charged: int,
          impressions: int | None, p: Posting | None) -> Charge:
    """The charge's outcome: ``state`` with its final ``charged`` amount."""
    c = row._mapping
    conn.execute(update(CHARGES).where(CHARGES.c.job_uuid == c["job_uuid"]).values(
        state=str(state), charged=charged, reported_impressions=impressions,
        updated_at=utcnow()))
    charge = load(conn, row)
    return replace(charge, state=state, charged=charged,
                   balance=p.balance_after if p else charge.balance)


def add_refund(conn: Connection, c: RowMapping, value: int) -> None:
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
