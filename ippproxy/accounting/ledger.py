"""The ledger: the only code that changes ``accounts.balance``.

Theory of operation
-------------------
Every balance change is one ``acct_ledger`` row carrying the amount, the balance
after it, a kind, a reason, the actor, the job (if any) and an idempotency key
that is UNIQUE in the table. :func:`post` runs inside the caller's transaction:

1. lock the account row (``SELECT ... FOR UPDATE`` on PostgreSQL; on SQLite the
   transaction already holds the database write lock from ``BEGIN IMMEDIATE``);
2. look the idempotency key up *after* taking the lock, so a concurrent poster
   of the same key has either committed (we see its row and replay it) or not
   started (we insert; a racing insert fails on the UNIQUE key and is retried by
   :func:`ippproxy.accounting.txn.in_transaction`, which then replays);
3. check credit if asked (restricted accounts may go down to ``-credit_limit``);
4. update the balance and insert the row in the same transaction.

Hence ``balance == opening_balance + sum(amount)`` for every account, and a key
is applied at most once whatever retries, restarts or nodes do.

:func:`debit` (a job's charge at intake) does steps 1, 3 and 4 in one statement, an
``UPDATE ... RETURNING`` whose ``WHERE`` holds the credit check, and then inserts the
row (on PostgreSQL in the same statement, a data-modifying ``WITH``: one round trip
fewer in the writer that runs a batch's charges one after another). On PostgreSQL the
row lock is taken by that UPDATE and held to COMMIT, so the next
charge to the same account waits for the UPDATE, the ledger row's insert and the COMMIT,
not for the lock read, the update, two inserts and the COMMIT, each a round trip (a
shared account many print to at once; bench_charging's one-user lines). READ COMMITTED re-evaluates the ``WHERE`` on the
row as the previous holder committed it, so the check and the update see one balance.
The job's charge row (its UNIQUE job key stands for step 2) is a :class:`Beside` row of
the debit: on SQLite the caller's row is inserted first, before the debit; on PostgreSQL
it is a third part of the same statement, inserted from the UPDATE's RETURNING like the
ledger row (one round trip fewer again), so that there is none when the UPDATE matched
nothing. Refused there, the debit inserts the row alone before it says why, as SQLite
did first: a charge row of the same job committed meanwhile (the job reserved twice at
once) then fails on its UNIQUE key, and the caller's transaction replays that charge
(``txn.in_transaction``) instead of refusing it. The row's foreign key takes a KEY SHARE
lock on the account, which the UPDATE's NO KEY UPDATE lock does not conflict with (a
``SELECT ... FOR UPDATE`` would, and two charges of one account in flight deadlock).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    CTE,
    Connection,
    Row,
    Table,
    bindparam,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.sql.dml import Insert

from ippproxy.accounting.errors import CreditRefused, InvalidOperation, NotFound
from ippproxy.accounting.models import ACCOUNTS, LEDGER
from ippproxy.accounting.money import MAX_AMOUNT, MAX_BALANCE, format_money
from ippproxy.db.base import utcnow
from ippproxy.db.prepared import Prepared


class Kind(StrEnum):
    INITIAL = "initial"  # opening credit of a new account
    CHARGE = "charge"  # job debit at intake
    SETTLE = "settle"  # difference between the intake charge and the final price
    REFUND = "refund"  # automatic (nothing printed) or admin refund
    ADJUST = "adjust"  # admin correction (SavaPage: balance change = transaction)
    QUOTA = "quota"  # scheduled allocation


@dataclass(frozen=True)
class Posting:
    id: int
    account_id: uuid.UUID
    amount: int
    balance_after: int
    kind: str
    reason: str
    actor: str
    job_uuid: uuid.UUID | None
    idempotency_key: str
    created_at: dt.datetime
    replayed: bool = False  # True: the key existed, nothing was written now


def lock_account(conn: Connection, account_id: uuid.UUID) -> Row[tuple[object, ...]]:
    stmt = select(ACCOUNTS).where(ACCOUNTS.c.id == account_id)
    if conn.dialect.name != "sqlite":
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).first()
    if row is None:
        raise NotFound(f"no account {account_id}")
    return row


def find(conn: Connection, key: str) -> Posting | None:
    row = conn.execute(select(LEDGER).where(LEDGER.c.idempotency_key == key)).first()
    return None if row is None else _posting(row, replayed=True)


def _posting(row: Row[tuple[object, ...]], replayed: bool) -> Posting:
    m = row._mapping
    return Posting(id=m["id"], account_id=m["account_id"], amount=m["amount"],
                   balance_after=m["balance_after"], kind=m["kind"], reason=m["reason"],
                   actor=m["actor"], job_uuid=m["job_uuid"],
                   idempotency_key=m["idempotency_key"], created_at=m["created_at"],
                   replayed=replayed)


def credit_message(balance: int, cost: int, credit_limit: int, currency: str,
                   exponent: int = 2) -> str:
    text = (f"Insufficient credit: balance {format_money(balance, currency, exponent)}, "
            f"job cost {format_money(cost, currency, exponent)}")
    if credit_limit:
        text += f", credit limit {format_money(credit_limit, currency, exponent)}"
    return text + "."


def post(conn: Connection, account_id: uuid.UUID, amount: int, *, kind: Kind, reason: str,
         actor: str, key: str, job_uuid: uuid.UUID | None = None,
         enforce_credit: bool = False, exponent: int = 2,
         now: dt.datetime | None = None) -> Posting:
    """Apply ``amount`` (negative = debit) to the account once per ``key``.

    With ``enforce_credit`` a debit that would take a restricted account below
    ``-credit_limit`` raises :class:`CreditRefused` and writes nothing.
    """
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise InvalidOperation("amounts are integer minor units")
    acct = lock_account(conn, account_id)._mapping
    existing = find(conn, key)
    if existing is not None:
        if existing.account_id != account_id or existing.amount != amount:
            raise InvalidOperation(f"idempotency key {key!r} reused for a different posting")
        return existing
    return apply(conn, Locked(account_id, acct["balance"], acct["currency"],
                              acct["restricted"], acct["credit_limit"]),
                 amount, kind=kind, reason=reason, actor=actor, key=key, job_uuid=job_uuid,
                 enforce_credit=enforce_credit, exponent=exponent, now=now)


# Built and compiled once, run with the driver's cursor (db/prepared.py): building a
# statement costs more than running it on SQLite, and so does Connection.execute.
_SET_BALANCE = Prepared(update(ACCOUNTS).where(ACCOUNTS.c.id == bindparam("account"))
                        .values(balance=bindparam("new_balance")))
_INSERT = Prepared(insert(LEDGER).returning(LEDGER.c.id),
                   columns=[c.key for c in LEDGER.columns if c.key != "id"])


@dataclass(frozen=True)
class Locked:
    """An account row as read under its lock in the caller's transaction."""

    id: uuid.UUID
    balance: int
    currency: str
    restricted: bool
    credit_limit: int


def _check(acct: Locked, amount: int, enforce_credit: bool, exponent: int) -> None:
    """Raise what :func:`apply` refuses ``amount`` on ``acct`` for."""
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise InvalidOperation("amounts are integer minor units")
    balance = acct.balance
    new_balance = balance + amount
    if abs(amount) > MAX_AMOUNT or abs(new_balance) > MAX_BALANCE:  # money.py: int64 room
        raise InvalidOperation(
            f"{format_money(amount, acct.currency, exponent)} on a balance of "
            f"{format_money(balance, acct.currency, exponent)} is beyond the maximum "
            f"{format_money(MAX_AMOUNT, acct.currency, exponent)} per amount and "
            f"{format_money(MAX_BALANCE, acct.currency, exponent)} per balance")
    if enforce_credit and amount < 0 and acct.restricted and new_balance < -acct.credit_limit:
        raise CreditRefused(credit_message(balance, -amount, acct.credit_limit,
                                           acct.currency, exponent),
                            balance=balance, cost=-amount,
                            credit_limit=acct.credit_limit, currency=acct.currency)


def apply(conn: Connection, acct: Locked, amount: int, *, kind: Kind, reason: str,
          actor: str, key: str, job_uuid: uuid.UUID | None = None,
          enforce_credit: bool = False, exponent: int = 2,
          now: dt.datetime | None = None) -> Posting:
    """Steps 3 and 4 of :func:`post` for a caller that holds the account's lock (``acct``
    read under it) and knows ``key`` is new in this transaction: the charge row of the
    same job, written in the same transaction as its postings, says so. Should the key
    exist anyway (a racing node), its UNIQUE index refuses the insert and
    ``txn.in_transaction`` retries the unit, which then replays."""
    _check(acct, amount, enforce_credit, exponent)
    new_balance = acct.balance + amount
    _SET_BALANCE.run(conn, {"account": acct.id, "new_balance": new_balance})
    return _insert(conn, acct.id, amount, new_balance, kind=kind, reason=reason, actor=actor,
                   key=key, job_uuid=job_uuid, now=now)


# The debit with its checks in the WHERE (see the module's docstring): no row when the
# account would go beyond the maximum balance, or a restricted one below its credit limit.
_NEW_BALANCE = ACCOUNTS.c.balance + bindparam("amount")
_DEBIT_UPDATE = (update(ACCOUNTS)
                 .where(ACCOUNTS.c.id == bindparam("account"),
                        _NEW_BALANCE >= -MAX_BALANCE,
                        or_(ACCOUNTS.c.restricted.is_(False),
                            _NEW_BALANCE >= -ACCOUNTS.c.credit_limit))
                 .values(balance=_NEW_BALANCE)
                 .returning(ACCOUNTS.c.balance))
_DEBIT = Prepared(_DEBIT_UPDATE)
# PostgreSQL: the same UPDATE and the ledger row it makes in one statement, a
# data-modifying WITH (https://www.postgresql.org/docs/current/queries-with.html,
# "Data-Modifying Statements in WITH"): the row is inserted from the UPDATE's RETURNING,
# so there is none when the UPDATE matched nothing. One round trip a charge fewer for a
# caller that charges a batch of jobs one after another (intake's writer); the account's
# lock is taken by the same UPDATE and held to COMMIT as before. SQLite has no
# data-modifying WITH, and its two statements cost no round trip.
_POSTED = [c.key for c in LEDGER.columns if c.key != "id"]


def _posted(debited: CTE) -> Insert:
    """The ledger row of the UPDATE ``debited``, its balance from the RETURNING."""
    return (insert(LEDGER).from_select(_POSTED, select(*(
        debited.c.balance if k == "balance_after"
        else bindparam(k, type_=LEDGER.c[k].type) for k in _POSTED)))
        .returning(LEDGER.c.id, LEDGER.c.balance_after))


_DEBIT_POSTED = Prepared(_posted(_DEBIT_UPDATE.cte("debited")))
BESIDE = "beside_"   # the bind names of a Beside row's columns: this prefix and the column


def posted_beside(table: Table) -> Prepared:
    """PostgreSQL: ``_DEBIT_POSTED`` that also inserts one row into ``table`` (every
    column a bind named :data:`BESIDE` + its name) when, and only when, the UPDATE
    matched: a data-modifying WITH of its own that reads the UPDATE's."""
    debited = _DEBIT_UPDATE.cte("debited")
    columns = [c.key for c in table.columns]
    row = insert(table).from_select(columns, select(*(
        bindparam(BESIDE + k, type_=table.c[k].type) for k in columns)).select_from(debited))
    return Prepared(_posted(debited).add_cte(row.cte("beside")))


@dataclass(frozen=True)
class Beside:
    """A row written with a debit and only with it (a job's charge row): ``alone``
    inserts it (its columns in ``row``), ``posted`` is :func:`posted_beside` of its table."""

    alone: Prepared
    posted: Prepared
    row: Mapping[str, Any]


_ACCOUNT_STMT = select(ACCOUNTS.c.balance, ACCOUNTS.c.currency, ACCOUNTS.c.restricted,
                       ACCOUNTS.c.credit_limit).where(ACCOUNTS.c.id == bindparam("account"))
_ACCOUNT = Prepared(_ACCOUNT_STMT)
_ACCOUNT_LOCKED = Prepared(_ACCOUNT_STMT.with_for_update(key_share=True))  # SQLite: none


def debit(conn: Connection, account_id: uuid.UUID, amount: int, *, kind: Kind,
          reason: str, actor: str, key: str, job_uuid: uuid.UUID | None = None,
          exponent: int = 2, now: dt.datetime | None = None,
          beside: Beside | None = None) -> Posting:
    """:func:`apply` of a debit (``amount`` <= 0) with the credit enforced, for a caller
    that knows ``key`` is new (as there) but holds no lock: the account is locked by its
    update, from there to the COMMIT (the module's docstring). Refused, it
    raises what :func:`apply` raises, on the balance read after the refusal.
    ``beside``: a row written with the debit, before it or in its statement (the
    module's docstring), and before the refusal when refused."""
    if not isinstance(amount, int) or isinstance(amount, bool) or amount > 0:
        raise InvalidOperation("a debit is a negative integer of minor units (or 0)")
    if beside is not None and conn.dialect.name != "postgresql":
        beside.alone.run(conn, beside.row)
        beside = None
    for attempt in range(4):
        if -amount <= MAX_AMOUNT:
            posted = _debited(conn, account_id, amount, kind=kind, reason=reason,
                              actor=actor, key=key, job_uuid=job_uuid, now=now,
                              beside=beside)
            if posted is not None:
                return posted
        if beside is not None:   # refused: the row alone now (its UNIQUE key first)
            beside.alone.run(conn, beside.row)
            beside = None
        # Refused, or a deposit committed between the UPDATE and this read; from the third
        # read on the row is locked (NO KEY UPDATE, which our charge row's KEY SHARE lock
        # allows), so the next UPDATE sees the balance checked here.
        read = _ACCOUNT_LOCKED if attempt >= 2 else _ACCOUNT
        acct = read.first(conn, {"account": account_id})
        if acct is None:
            raise NotFound(f"no account {account_id}")
        balance, currency, restricted, credit_limit = acct
        _check(Locked(account_id, balance, currency, bool(restricted), credit_limit),
               amount, True, exponent)
    raise InvalidOperation(f"account {account_id} could not be debited")  # pragma: no cover


def _debited(conn: Connection, account_id: uuid.UUID, amount: int, *, kind: Kind,
             reason: str, actor: str, key: str, job_uuid: uuid.UUID | None,
             now: dt.datetime | None, beside: Beside | None) -> Posting | None:
    """Steps 3 and 4 of a debit: the UPDATE with its checks and the ledger row; None when
    the UPDATE matched no row (refused, or no such account), and then nothing is written.
    On PostgreSQL both are one statement (``_DEBIT_POSTED``), with the ``beside`` row
    (PostgreSQL only) a third part of it."""
    if conn.dialect.name != "postgresql":
        balance = _DEBIT.first(conn, {"account": account_id, "amount": amount})
        return None if balance is None else _insert(
            conn, account_id, amount, balance[0], kind=kind, reason=reason, actor=actor,
            key=key, job_uuid=job_uuid, now=now)
    row = _row(account_id, amount, None, kind=kind, reason=reason, actor=actor, key=key,
               job_uuid=job_uuid, now=now)   # balance_after: the UPDATE's RETURNING
    params = {**row, "account": account_id}
    if beside is None:
        posted = _DEBIT_POSTED.first(conn, params)
    else:
        posted = beside.posted.first(conn, {**params, **{
            BESIDE + k: v for k, v in beside.row.items()}})
    if posted is None:
        return None
    new_id, new_balance = posted
    return Posting(id=new_id, **{**row, "balance_after": new_balance})


def _insert(conn: Connection, account_id: uuid.UUID, amount: int, new_balance: int, *,
            kind: Kind, reason: str, actor: str, key: str, job_uuid: uuid.UUID | None,
            now: dt.datetime | None) -> Posting:
    """Step 4's row, the balance already written."""
    row = _row(account_id, amount, new_balance, kind=kind, reason=reason, actor=actor,
               key=key, job_uuid=job_uuid, now=now)
    [(new_id,)] = _INSERT.rows(conn, row)
    return Posting(id=new_id, **row)


def _row(account_id: uuid.UUID, amount: int, new_balance: int | None, *, kind: Kind,
         reason: str, actor: str, key: str, job_uuid: uuid.UUID | None,
         now: dt.datetime | None) -> dict[str, Any]:
    """A ledger row's columns but its id (the names of Posting's fields too)."""
    return {"account_id": account_id, "amount": amount, "balance_after": new_balance,
            "kind": str(kind), "reason": reason, "actor": actor, "job_uuid": job_uuid,
            "idempotency_key": key, "created_at": now or utcnow()}


def entries(conn: Connection, *, account_id: uuid.UUID | None = None,
            job_uuid: uuid.UUID | None = None, limit: int = 1000) -> list[Posting]:
    stmt = select(LEDGER).order_by(LEDGER.c.id).limit(limit)
    if account_id is not None:
        stmt = stmt.where(LEDGER.c.account_id == account_id)
    if job_uuid is not None:
        stmt = stmt.where(LEDGER.c.job_uuid == job_uuid)
    return [_posting(r, replayed=False) for r in conn.execute(stmt)]


def audit(conn: Connection) -> list[tuple[uuid.UUID, int, int]]:
    """Accounts whose balance != opening + sum(ledger): ``(id, balance, expected)``."""
    sums = (select(LEDGER.c.account_id, func.sum(LEDGER.c.amount).label("total"))
            .group_by(LEDGER.c.account_id).subquery())
    rows = conn.execute(select(ACCOUNTS.c.id, ACCOUNTS.c.balance, ACCOUNTS.c.opening_balance,
                               sums.c.total)
                        .outerjoin(sums, sums.c.account_id == ACCOUNTS.c.id))
    bad = []
    for acct_id, balance, opening, total in rows:
        expected = opening + int(total or 0)
        if balance != expected:
            bad.append((acct_id, balance, expected))
    return bad
