"""Admin operations on balances (adjust, credit limit) and listings, on a Connection."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Connection, Row, select, update

from ippproxy.accounting import users
from ippproxy.accounting.errors import InvalidOperation
from ippproxy.accounting.ledger import Kind, Posting, find, lock_account, post
from ippproxy.accounting.models import ACCOUNTS, USERS
from ippproxy.accounting.money import check_amount, format_money


def account_of(conn: Connection, *, username: str | None = None,
               code: str | None = None) -> Row[tuple[object, ...]]:
    if (username is None) == (code is None):
        raise InvalidOperation("name exactly one of a user or a shared account code")
    if code is not None:
        return users.shared_account(conn, code)
    uid = users.get_user(conn, username or "")._mapping["id"]
    return users.personal_account(conn, uid)


def adjust_balance(conn: Connection, account_id: uuid.UUID, amount: int, *, reason: str,
                   actor: str, key: str | None = None, allow_overdraft: bool = False,
                   exponent: int = 2) -> Posting:
    """A balance correction is a transaction (SavaPage §4.4.4.6), never an overwrite.

    A debit that takes a restricted account below ``-credit_limit`` is refused unless
    ``allow_overdraft``; then the ledger row's reason says so. A retried ``key`` replays."""
    if not reason.strip():
        raise InvalidOperation("an adjustment needs a reason")
    if amount == 0:
        raise InvalidOperation("an adjustment of zero changes nothing")
    try:
        check_amount(amount, exponent, "the adjustment")
    except ValueError as e:
        raise InvalidOperation(str(e)) from None
    full_key = f"adjust:{key or uuid.uuid4()}"
    acct = lock_account(conn, account_id)._mapping
    after = acct["balance"] + amount
    if (amount < 0 and acct["restricted"] and after < -acct["credit_limit"]
            and find(conn, full_key) is None):
        def money(v: int) -> str:
            return format_money(v, acct["currency"], exponent)
        if not allow_overdraft:
            raise InvalidOperation(
                f"the adjustment would take the balance to {money(after)}, below the "
                f"credit limit of this restricted account ({money(-acct['credit_limit'])}); "
                "allow an overdraft to do it anyway")
        reason = (f"{reason} (overdraft allowed: balance {money(after)}, "
                  f"credit limit {money(acct['credit_limit'])})")
    return post(conn, account_id, amount, kind=Kind.ADJUST, reason=reason, actor=actor,
                key=full_key, exponent=exponent)


def set_credit_limit(conn: Connection, account_id: uuid.UUID, limit: int,
                     exponent: int = 2) -> None:
    if limit < 0:
        raise InvalidOperation("a credit limit is zero or positive (the overdraft allowed)")
    try:
        check_amount(limit, exponent, "the credit limit")
    except ValueError as e:
        raise InvalidOperation(str(e)) from None
    lock_account(conn, account_id)  # NotFound for an unknown account
    conn.execute(update(ACCOUNTS).where(ACCOUNTS.c.id == account_id).values(credit_limit=limit))


def list_users(conn: Connection, *, include_deleted: bool = False) -> list[dict[str, Any]]:
    stmt = (select(USERS, ACCOUNTS.c.balance, ACCOUNTS.c.currency, ACCOUNTS.c.restricted,
                   ACCOUNTS.c.credit_limit)
            .join(ACCOUNTS, ACCOUNTS.c.owner_id == USERS.c.id)
            .order_by(USERS.c.username, USERS.c.created_at))
    if not include_deleted:
        stmt = stmt.where(USERS.c.deleted_at.is_(None))
    out = []
    for row in conn.execute(stmt):
        m = row._mapping
        out.append({
            "id": str(m["id"]), "username": m["username"], "internal": m["internal"],
            "full_name": m["full_name"], "email": m["email"], "card_number": m["card_number"],
            "admin": m["admin"], "disabled": m["disabled"],
            "deleted": m["deleted_at"] is not None,
            "groups": users.user_groups(conn, m["id"]), "balance": m["balance"],
            "currency": m["currency"], "restricted": m["restricted"],
            "credit_limit": m["credit_limit"]})
    return out
