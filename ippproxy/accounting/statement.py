"""What an operator asks of the ledger: one account's state, and its transactions.

Accounts are named as operators name them, never by UUID: a personal account by its
user's canonical name (``"account_type": "user"``), a shared account by its code
(``"account_type": "shared"``, with its display name). Transactions come newest first;
a page ends where the next begins: ``before`` is the ledger id of the last row shown
(ids only grow, so the pages neither repeat nor skip a row while new rows arrive).
Every timestamp is ISO 8601 in UTC with its offset (``2026-12-02T11:12:22+00:00``):
SQLite gives the stored UTC time back without a zone, PostgreSQL in the session's zone.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection
from typing import Any

from sqlalchemy import Connection, Row, select

from ippproxy.accounting import admin, jobref
from ippproxy.accounting.ledger import Kind
from ippproxy.accounting.models import ACCOUNTS, LEDGER, USERS

MAX_LIMIT = 10_000  # rows in one page


def iso_utc(value: dt.datetime) -> str:
    """ISO 8601 in UTC with the offset; a zoneless value is UTC (how the ledger stores it)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat()


def parse_time(text: str, what: str) -> dt.datetime:
    """An ISO 8601 date or time typed by an operator; without an offset it is UTC."""
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{what} is not an ISO 8601 date or time: {text!r}") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def parse_count(text: str, what: str, low: int, high: int) -> int:
    """A whole number typed by an operator, in ASCII digits, within ``low..high``."""
    s = text.strip()
    if not (s.isascii() and s.isdigit()) or not low <= int(s) <= high:
        raise ValueError(f"{what} is a whole number from {low} to {high}, not {text!r}")
    return int(s)


def _named() -> Any:
    """Ledger rows joined to the names of their accounts."""
    return (select(LEDGER, ACCOUNTS.c.kind.label("account_kind"),
                   ACCOUNTS.c.code.label("account_code"),
                   ACCOUNTS.c.name.label("account_name"),
                   USERS.c.username.label("account_user"))
            .join(ACCOUNTS, ACCOUNTS.c.id == LEDGER.c.account_id)
            .outerjoin(USERS, USERS.c.id == ACCOUNTS.c.owner_id))


def _names(m: Any, prefix: str = "") -> dict[str, Any]:
    if m[f"{prefix}kind"] == "shared":
        return {"account": m[f"{prefix}code"], "account_type": "shared",
                "account_name": m[f"{prefix}name"]}
    return {"account": m[f"{prefix}user"], "account_type": "user"}


def _row(row: Row[tuple[object, ...]]) -> dict[str, Any]:
    m = row._mapping
    return {"id": m["id"], **_names(m, "account_"), "amount": m["amount"],
            "balance_after": m["balance_after"], "kind": m["kind"], "reason": m["reason"],
            "actor": m["actor"], "job": str(m["job_uuid"]) if m["job_uuid"] else None,
            "created_at": iso_utc(m["created_at"])}


def transactions(conn: Connection, *, account_id: uuid.UUID | None = None,
                 job_uuid: uuid.UUID | None = None, kinds: Collection[str] = (),
                 since: dt.datetime | None = None, until: dt.datetime | None = None,
                 before: int | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """Ledger rows, newest first: ``since`` inclusive, ``until`` exclusive, ids below
    ``before`` (the cursor), at most ``limit``."""
    unknown = set(kinds) - {str(k) for k in Kind}
    if unknown:
        raise ValueError(f"no transaction kind {min(unknown)!r} (kinds: "
                         f"{', '.join(str(k) for k in Kind)})")
    if since is not None and until is not None and until <= since:
        raise ValueError("--until is not after --since")
    stmt = _named().order_by(LEDGER.c.id.desc()).limit(limit)
    if account_id is not None:
        stmt = stmt.where(LEDGER.c.account_id == account_id)
    if job_uuid is not None:
        stmt = stmt.where(LEDGER.c.job_uuid == job_uuid)
    if kinds:
        stmt = stmt.where(LEDGER.c.kind.in_(sorted(set(kinds))))
    # Compared in UTC: on SQLite the column holds the UTC time without a zone.
    if since is not None:
        stmt = stmt.where(LEDGER.c.created_at >= _db_time(conn, since))
    if until is not None:
        stmt = stmt.where(LEDGER.c.created_at < _db_time(conn, until))
    if before is not None:
        stmt = stmt.where(LEDGER.c.id < before)
    return jobref.name_jobs(conn, [_row(r) for r in conn.execute(stmt)])


def _db_time(conn: Connection, value: dt.datetime) -> dt.datetime:
    value = value.astimezone(dt.UTC)
    return value.replace(tzinfo=None) if conn.dialect.name == "sqlite" else value


def show_account(conn: Connection, *, username: str | None = None, code: str | None = None,
                 last: int = 10) -> dict[str, Any]:
    """One account: balance, credit limit, restricted, and its ``last`` transactions."""
    m = admin.account_of(conn, username=username, code=code)._mapping
    owner = None
    if m["owner_id"] is not None:
        owner = conn.execute(select(USERS.c.username)
                             .where(USERS.c.id == m["owner_id"])).scalar_one()
    parent = None
    if m["parent_id"] is not None:
        parent = conn.execute(select(ACCOUNTS.c.code)
                              .where(ACCOUNTS.c.id == m["parent_id"])).scalar_one()
    names = _names({"kind": m["kind"], "code": m["code"], "name": m["name"], "user": owner})
    # What a restricted account may still spend; an unrestricted one has no floor.
    available = m["balance"] + m["credit_limit"] if m["restricted"] else None
    return {**names, **({"parent": parent} if m["kind"] == "shared" else {}),
            "currency": m["currency"], "balance": m["balance"],
            "credit_limit": m["credit_limit"], "restricted": m["restricted"],
            "available": available, "disabled": m["disabled"],
            "created_at": iso_utc(m["created_at"]),
            "transactions": transactions(conn, account_id=m["id"], limit=last)}
