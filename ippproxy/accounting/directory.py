"""Paged, filtered and sorted reads of users, groups, accounts and the ledger, for the
admin's screens and the REST API (on a Connection, portable SQL).

``Page`` carries the offset and limit; the caller bounds the limit. Sorting is by a named
column from a fixed table of allowed keys (never a name from the request used as SQL), with
the row's id as the tie-breaker so that pages do not overlap.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, func, select

from ippproxy.accounting import users
from ippproxy.accounting.identity import canonical_name
from ippproxy.accounting.models import ACCOUNTS, GROUPS, LEDGER, MEMBERS, USERS


@dataclass(frozen=True)
class Page:
    offset: int = 0
    limit: int = 50
    sort: str = ""  # a key of the listing's SORTS; "" is its default
    descending: bool = False


USER_SORTS = {"username": USERS.c.username, "created_at": USERS.c.created_at,
              "balance": ACCOUNTS.c.balance}
ACCOUNT_SORTS = {"name": ACCOUNTS.c.name, "balance": ACCOUNTS.c.balance,
                 "created_at": ACCOUNTS.c.created_at}
LEDGER_SORTS = {"id": LEDGER.c.id, "created_at": LEDGER.c.created_at,
                "amount": LEDGER.c.amount}


def _paged(stmt: Select[Any], page: Page, sorts: Mapping[str, ColumnElement[Any]],
           default: str, tiebreak: ColumnElement[Any]) -> Select[Any]:
    column = sorts[page.sort or default]
    order = column.desc() if page.descending else column.asc()
    tie = tiebreak.desc() if page.descending else tiebreak.asc()
    return stmt.order_by(order, tie).offset(page.offset).limit(page.limit)


def _count(conn: Connection, stmt: Select[Any]) -> int:
    return int(conn.execute(select(func.count()).select_from(stmt.subquery())).scalar_one())


def _user_dict(conn: Connection, m: Mapping[Any, Any]) -> dict[str, Any]:
    return {"id": str(m["id"]), "username": m["username"], "full_name": m["full_name"],
            "email": m["email"], "internal": m["internal"], "admin": m["admin"],
            "disabled": m["disabled"], "created_at": m["created_at"],
            "groups": users.user_groups(conn, m["id"]), "balance": m["balance"],
            "currency": m["currency"], "restricted": m["restricted"],
            "credit_limit": m["credit_limit"]}


def _users_stmt() -> Select[Any]:
    return (select(USERS, ACCOUNTS.c.balance, ACCOUNTS.c.currency, ACCOUNTS.c.restricted,
                   ACCOUNTS.c.credit_limit)
            .join(ACCOUNTS, ACCOUNTS.c.owner_id == USERS.c.id)
            .where(USERS.c.deleted_at.is_(None)))


def users_page(conn: Connection, page: Page, *, search: str | None = None,
               group: str | None = None, admin: bool | None = None
               ) -> tuple[list[dict[str, Any]], int]:
    """Live users and their personal accounts; ``search`` matches a part of the name."""
    stmt = _users_stmt()
    if search:
        stmt = stmt.where(USERS.c.username.contains(search.casefold(), autoescape=True))
    if group:
        members = (select(MEMBERS.c.user_id).join(GROUPS, GROUPS.c.id == MEMBERS.c.group_id)
                   .where(GROUPS.c.name == canonical_name(group)))
        stmt = stmt.where(USERS.c.id.in_(members))
    if admin is not None:
        stmt = stmt.where(USERS.c.admin.is_(admin))
    total = _count(conn, stmt)
    rows = conn.execute(_paged(stmt, page, USER_SORTS, "username", USERS.c.id)).mappings()
    return [_user_dict(conn, m) for m in rows], total


def user(conn: Connection, username: str) -> dict[str, Any] | None:
    """One live user by name (canonicalised here: case variants are the same user)."""
    row = conn.execute(_users_stmt().where(
        USERS.c.username == canonical_name(username))).mappings().first()
    return None if row is None else _user_dict(conn, row)


def admin_profile(conn: Connection, username: str) -> tuple[bool, frozenset[str]] | None:
    """(admin role, groups) of a live, enabled user; None for anyone else."""
    row = users.find_user(conn, username)
    if row is None or row._mapping["disabled"]:
        return None
    m = row._mapping
    return bool(m["admin"]), frozenset(users.user_groups(conn, m["id"]))


def password_hash(conn: Connection, username: str) -> str | None:
    """The stored password hash of a live, enabled user (None: none, or no such user)."""
    row = users.find_user(conn, username)
    if row is None or row._mapping["disabled"]:
        return None
    return row._mapping["password_hash"] or None


def groups(conn: Connection) -> list[dict[str, Any]]:
    members = (select(MEMBERS.c.group_id, func.count().label("n"))
               .group_by(MEMBERS.c.group_id).subquery())
    rows = conn.execute(select(GROUPS, members.c.n)
                        .outerjoin(members, members.c.group_id == GROUPS.c.id)
                        .order_by(GROUPS.c.name)).mappings()
    return [{"name": m["name"], "members": int(m["n"] or 0),
             "initial_balance": m["initial_balance"],
             "initial_restricted": m["initial_restricted"],
             "initial_credit_limit": m["initial_credit_limit"],
             "quota_period": m["quota_period"], "quota_amount": m["quota_amount"]}
            for m in rows]


def _account_dict(m: Mapping[Any, Any], owner: str | None) -> dict[str, Any]:
    return {"id": str(m["id"]), "kind": m["kind"], "name": m["name"], "code": m["code"],
            "owner": owner, "currency": m["currency"], "balance": m["balance"],
            "restricted": m["restricted"], "credit_limit": m["credit_limit"],
            "disabled": m["disabled"], "created_at": m["created_at"]}


def accounts_page(conn: Connection, page: Page, *, kind: str | None = None
                  ) -> tuple[list[dict[str, Any]], int]:
    stmt = (select(ACCOUNTS, USERS.c.username.label("owner"))
            .outerjoin(USERS, USERS.c.id == ACCOUNTS.c.owner_id))
    if kind:
        stmt = stmt.where(ACCOUNTS.c.kind == kind)
    total = _count(conn, stmt)
    rows = conn.execute(_paged(stmt, page, ACCOUNT_SORTS, "name", ACCOUNTS.c.id)).mappings()
    return [_account_dict(m, m["owner"]) for m in rows], total


def account(conn: Connection, account_id: uuid.UUID) -> dict[str, Any] | None:
    m = conn.execute(select(ACCOUNTS, USERS.c.username.label("owner"))
                     .outerjoin(USERS, USERS.c.id == ACCOUNTS.c.owner_id)
                     .where(ACCOUNTS.c.id == account_id)).mappings().first()
    return None if m is None else _account_dict(m, m["owner"])


def ledger_page(conn: Connection, account_id: uuid.UUID, page: Page, *,
                kind: str | None = None) -> tuple[list[dict[str, Any]], int]:
    stmt = select(LEDGER).where(LEDGER.c.account_id == account_id)
    if kind:
        stmt = stmt.where(LEDGER.c.kind == kind)
    total = _count(conn, stmt)
    rows = conn.execute(_paged(stmt, page, LEDGER_SORTS, "id", LEDGER.c.id)).mappings()
    return [{"id": m["id"], "amount": m["amount"], "balance_after": m["balance_after"],
             "kind": m["kind"], "reason": m["reason"], "actor": m["actor"],
             "job_uuid": str(m["job_uuid"]) if m["job_uuid"] else None,
             "created_at": m["created_at"]} for m in rows], total
