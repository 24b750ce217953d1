"""The admin's user list (SavaPage §4.4.1 "User List"): users selected by group, by a
fragment of their id or email ("son" selects "jason" and "sonja"), by type, role and
status, each with an "either" choice; sorted on id or email, ascending or descending; all
non-deleted users alphabetically by default. Also the pagometer's period: a reset of every
user's pagometer is one row, and a user's pagometer counts from the later of the last
reset and the user's creation.

A page is read with OFFSET/LIMIT on an indexed order covering the id (username:
``ix_acct_users_live_name``; email: ``ix_acct_users_email`` on ``coalesce(email, '')``),
its groups in one query for the whole page. A download
reads every selected user in batches by keyset (the last row's sort key and id), so
memory does not grow with the number of users.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    and_,
    func,
    insert,
    literal_column,
    or_,
    select,
)

from ippproxy.accounting.directory import Page
from ippproxy.accounting.identity import canonical_name
from ippproxy.accounting.models import (
    ACCOUNTS,
    GROUPS,
    MEMBERS,
    PAGOMETER_RESETS,
    USERS,
)
from ippproxy.db.base import utcnow

Kind = Literal["internal", "external"]
RoleName = Literal["admin", "user"]
Status = Literal["live", "active", "disabled", "deleted"]
TYPES: tuple[Kind, ...] = ("internal", "external")
ROLES: tuple[RoleName, ...] = ("admin", "user")
STATUSES: tuple[Status, ...] = ("live", "active", "disabled", "deleted")

_U = USERS.c
# Sort keys by name (never a name from the request used as SQL); ties by the user's id.
SORTS: dict[str, ColumnElement[Any]] = {
    # Email sorts as its expression index does (migration 0014_user_list): no email sorts as "".
    "username": _U.username, "email": func.coalesce(_U.email, literal_column("''")),
    "created_at": _U.created_at, "balance": ACCOUNTS.c.balance}


@dataclass(frozen=True)
class UserFilter:
    """The selection; None is the "either" choice. ``status`` "live" (the default) is
    active and disabled users, not deleted ones."""

    search: str | None = None     # a fragment of the user id or an email
    group: str | None = None      # a group's name
    type: Kind | None = None
    role: RoleName | None = None
    status: Status | None = "live"


def _conditions(flt: UserFilter, dialect: str = "") -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if flt.search:
        frag = flt.search.strip().casefold()
        # Names are stored casefolded; emails as given. SQLite's LIKE ignores ASCII case
        # already (lower() on every row cost half the scan); PostgreSQL's ILIKE does.
        email = (_U.email.contains(frag, autoescape=True) if dialect == "sqlite"
                 else _U.email.icontains(frag, autoescape=True))
        where.append(or_(_U.username.contains(frag, autoescape=True), email))
    if flt.group:
        members = (select(MEMBERS.c.user_id).join(GROUPS, GROUPS.c.id == MEMBERS.c.group_id)
                   .where(GROUPS.c.name == canonical_name(flt.group)))
        where.append(_U.id.in_(members))
    if flt.type is not None:
        where.append(_U.internal.is_(flt.type == "internal"))
    if flt.role is not None:
        where.append(_U.admin.is_(flt.role == "admin"))
    if flt.status == "deleted":
        where.append(_U.deleted_at.is_not(None))
    elif flt.status is not None:
        where.append(_U.deleted_at.is_(None))
        if flt.status != "live":
            where.append(_U.disabled.is_(flt.status == "disabled"))
    return where


def _stmt(flt: UserFilter, dialect: str = "") -> Select[Any]:
    return (select(USERS, ACCOUNTS.c.id.label("account_id"), ACCOUNTS.c.balance,
                   ACCOUNTS.c.currency, ACCOUNTS.c.restricted, ACCOUNTS.c.credit_limit)
            .join(ACCOUNTS, ACCOUNTS.c.owner_id == _U.id).where(*_conditions(flt, dialect)))


def _selective(flt: UserFilter) -> bool:
    """A selection that keeps a part of the users: found by one scan, not an index walk."""
    return bool(flt.search or flt.group or flt.type or flt.role) or flt.status not in (
        "live", "active")


def _groups(conn: Connection, ids: list[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    out: dict[uuid.UUID, list[str]] = {i: [] for i in ids}
    if ids:
        rows = conn.execute(select(MEMBERS.c.user_id, GROUPS.c.name)
                            .join(GROUPS, GROUPS.c.id == MEMBERS.c.group_id)
                            .where(MEMBERS.c.user_id.in_(ids)).order_by(GROUPS.c.name))
        for uid, name in rows:
            out[uid].append(name)
    return out


def _as_utc(when: dt.datetime) -> dt.datetime:
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def _items(conn: Connection, rows: Sequence[Mapping[Any, Any]], reset: dt.datetime | None
           ) -> list[dict[str, Any]]:
    groups = _groups(conn, [m["id"] for m in rows])
    out = []
    for m in rows:
        created = _as_utc(m["created_at"])
        out.append({
            "id": str(m["id"]), "username": m["username"], "full_name": m["full_name"],
            "email": m["email"], "card_number": m["card_number"],
            "internal": m["internal"], "admin": m["admin"], "disabled": m["disabled"],
            "deleted": m["deleted_at"] is not None,
            "created_at": created, "groups": groups[m["id"]],
            "account_id": str(m["account_id"]), "balance": m["balance"],
            "currency": m["currency"], "restricted": m["restricted"],
            "credit_limit": m["credit_limit"],
            "pagometer_since": max(created, reset) if reset else created})
    return out


def users_page(conn: Connection, page: Page, flt: UserFilter
               ) -> tuple[list[dict[str, Any]], int]:
    """One page of the selected users and how many are selected.

    Every user or the active ones: the page's ids walk the sort's index and the total is
    a count. A narrower selection: one scan finds the matches, sorts them on the key as an
    expression (``|| ''``: an index walk would visit every user to find a few) and gives
    the total beside each row (``count(*) OVER ()``). Either way the accounts and groups
    are read for the page's users only. Sorting by balance joins the accounts first."""
    dialect = conn.dialect.name
    conds = _conditions(flt, dialect)
    stmt = _stmt(flt, dialect)
    key = SORTS[page.sort or "username"]
    order: tuple[Any, ...] = ((key.desc(), _U.id.desc()) if page.descending
                              else (key.asc(), _U.id.asc()))

    def count() -> int:
        stmt = select(func.count()).select_from(USERS).where(*conds)
        if flt == UserFilter():
            # Every live user: counted on a live-name index, narrower than the rows
            # (a bound on the name, true of every name, lets SQLite's planner take it:
            # four times faster than the scan of the rows it chose).
            stmt = stmt.where(_U.username >= literal_column("''"))
        return int(conn.execute(stmt).scalar_one())
    if page.sort == "balance":
        total = count()
        stmt = stmt.order_by(*order).offset(page.offset).limit(page.limit)
    elif _selective(flt):
        # A name or an email as an expression (no index matches it); a time as it is.
        scan = (key.op("||")(literal_column("''")) if page.sort in ("", "username", "email")
                else key)
        found = conn.execute(
            select(_U.id, func.count().over().label("total")).where(*conds)
            .order_by(scan.desc() if page.descending else scan.asc(), order[1])
            .offset(page.offset).limit(page.limit)).all()
        total = int(found[0].total) if found else (count() if page.offset else 0)
        stmt = stmt.where(_U.id.in_([r.id for r in found])).order_by(*order)
    else:
        total = count()
        if key is _U.username:
            # A live user's name is unique (uq_acct_users_username_live): no tie to break,
            # so PostgreSQL walks that index instead of sorting every row before the page.
            order = order[:1]
        ids = (select(_U.id).where(*conds).order_by(*order)
               .offset(page.offset).limit(page.limit))
        stmt = stmt.where(_U.id.in_(ids)).order_by(*order)
    rows = conn.execute(stmt)
    return _items(conn, [r._mapping for r in rows], last_reset(conn)), total


def users_batch(conn: Connection, flt: UserFilter, sort: str, descending: bool,
                after: tuple[Any, str] | None, size: int) -> list[dict[str, Any]]:
    """The next ``size`` selected users after ``after`` (the previous batch's last sort
    value and id), for a download of every selected user a batch at a time."""
    key = SORTS[sort or "username"]
    stmt = _stmt(flt, conn.dialect.name).add_columns(key.label("_key"))
    if after is not None:
        value, last = after[0], uuid.UUID(after[1])
        stmt = stmt.where(or_(key < value, and_(key == value, _U.id < last))
                          if descending else
                          or_(key > value, and_(key == value, _U.id > last)))
    order = (key.desc(), _U.id.desc()) if descending else (key.asc(), _U.id.asc())
    rows = [r._mapping for r in conn.execute(stmt.order_by(*order).limit(size))]
    items = _items(conn, rows, last_reset(conn))
    for item, m in zip(items, rows, strict=True):
        item["_key"] = m["_key"]
    return items


def batches(conn: Connection, flt: UserFilter, sort: str = "username",
            descending: bool = False, size: int = 1000) -> Iterator[list[dict[str, Any]]]:
    """Every selected user, a batch at a time (``users_batch`` in a loop)."""
    after: tuple[Any, str] | None = None
    while batch := users_batch(conn, flt, sort, descending, after, size):
        after = (batch[-1]["_key"], batch[-1]["id"])
        for item in batch:
            del item["_key"]
        yield batch


def last_reset(conn: Connection) -> dt.datetime | None:
    when = conn.execute(select(func.max(PAGOMETER_RESETS.c.reset_at))).scalar_one()
    return None if when is None else _as_utc(when)


def reset_pagometers(conn: Connection, actor: str) -> dt.datetime:
    """Every user's pagometer starts again now (one row: who and when)."""
    now = utcnow()
    conn.execute(insert(PAGOMETER_RESETS).values(reset_at=now, actor=actor))
    return now
