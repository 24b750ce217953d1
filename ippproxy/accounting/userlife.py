"""Deleting and erasing a user, and the data a personal data download holds (SavaPage
manual, "Users", §4.4.3 and §4.4.6; GDPR articles 15, 17 and 20; issue 18). On a
Connection.

- Delete: logical (``deleted_at``; the row, its ledger and its jobs stay) while the user has
  job history or ledger rows, physical otherwise. :func:`sweep` deletes physically the
  logically deleted users whose history has aged out.
- Erase: the personal data cleared (name, e-mail addresses, card, ID number, PIN, password,
  token, job names); the user becomes an anonymous placeholder ``erased-<id>`` with the time
  of erasure. Ledger amounts and page counts stay, so every balance still equals its ledger.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import Connection, delete, exists, select, update

from ippproxy.accounting import useredit, users
from ippproxy.accounting.models import (
    ACCESS,
    ACCOUNTS,
    CHARGES,
    GROUPS,
    LEDGER,
    MEMBERS,
    USER_EMAILS,
    USER_PROFILE,
    USER_ROLES,
    USERS,
)
from ippproxy.jobs import personal


def _account_ids(conn: Connection, user_id: uuid.UUID) -> list[uuid.UUID]:
    return list(conn.execute(select(ACCOUNTS.c.id).where(ACCOUNTS.c.owner_id == user_id))
                .scalars())


def has_history(conn: Connection, user_id: uuid.UUID, username: str) -> bool:
    """Job history or transactions on record (then a delete is logical)."""
    accounts = _account_ids(conn, user_id)
    ledger = conn.execute(select(exists().where(LEDGER.c.account_id.in_(accounts)))).scalar()
    charges = conn.execute(select(exists().where(CHARGES.c.user_id == user_id))).scalar()
    return bool(ledger or charges or personal.has_jobs(conn, username))


def _physical(conn: Connection, user_id: uuid.UUID) -> None:
    # Memberships, roles, profile, e-mails and access rows go by ON DELETE CASCADE on
    # PostgreSQL; SQLite without foreign keys on needs them named, so name them all.
    for table in (MEMBERS, USER_ROLES, USER_PROFILE, USER_EMAILS, ACCESS):
        conn.execute(delete(table).where(table.c.user_id == user_id))
    conn.execute(delete(ACCOUNTS).where(ACCOUNTS.c.owner_id == user_id))
    conn.execute(delete(USERS).where(USERS.c.id == user_id))


def delete_user(conn: Connection, username: str) -> tuple[uuid.UUID, bool]:
    """(the user's id, whether the delete was logical)."""
    row = users.get_user(conn, username)._mapping
    uid = uuid.UUID(str(row["id"]))
    if has_history(conn, uid, str(row["username"])):
        users.delete_user(conn, username)
        return uid, True
    _physical(conn, uid)
    return uid, False


def sweep(conn: Connection) -> list[uuid.UUID]:
    """Physically delete the logically deleted users with no history left (the daily
    housekeeping, after job and transaction retention removed it); their ids."""
    gone = []
    for uid, name in conn.execute(select(USERS.c.id, USERS.c.username)
                                  .where(USERS.c.deleted_at.is_not(None))).all():
        if not has_history(conn, uid, name):
            _physical(conn, uid)
            gone.append(uid)
    return gone


def placeholder(user_id: uuid.UUID) -> str:
    return f"erased-{user_id.hex[:12]}"


def erase_user(conn: Connection, username: str, now: dt.datetime) -> tuple[uuid.UUID, str]:
    """Clear the personal data; (the user's id, the placeholder name it now has)."""
    row = users.get_user(conn, username)._mapping
    uid = uuid.UUID(str(row["id"]))
    name = placeholder(uid)
    personal.erase_owner(conn, str(row["username"]), name)
    conn.execute(delete(USER_EMAILS).where(USER_EMAILS.c.user_id == uid))
    conn.execute(update(USERS).where(USERS.c.id == uid).values(
        username=name, full_name="", email=None, card_number=None, password_hash=None,
        disabled=True))
    conn.execute(update(ACCOUNTS).where(ACCOUNTS.c.owner_id == uid).values(name=name))
    useredit.set_profile(conn, uid, id_number=None, pin_hash=None, uuid_token=None,
                         erased_at=now)
    return uid, name


def _plain(d: dict[str, Any]) -> dict[str, Any]:
    return {k: ((v if v.tzinfo else v.replace(tzinfo=dt.UTC)).isoformat()
                if isinstance(v, dt.datetime) else
                str(v) if isinstance(v, uuid.UUID) else v) for k, v in d.items()}


def personal_data(conn: Connection, username: str) -> dict[str, Any]:
    """Everything kept about the user, as plain JSON values: profile, groups, accounts,
    transactions, job metadata (GDPR art. 15 and 20). Audit entries are the caller's (the
    catalog keeps them)."""
    row = users.get_user(conn, username)._mapping
    uid = uuid.UUID(str(row["id"]))
    prof = useredit.profile(conn, uid)
    profile = {"id": str(uid), "username": row["username"], "full_name": row["full_name"],
               "internal": row["internal"], "admin": row["admin"],
               "disabled": row["disabled"], "emails": useredit.emails(conn, uid),
               "card_number": row["card_number"], "id_number": prof["id_number"],
               "pin_set": bool(prof["pin_hash"]), "password_set": bool(row["password_hash"]),
               "uuid_token": prof["uuid_token"], "abstract": prof["abstract"],
               "source": prof["source"], "created_at": row["created_at"]}
    groups = [g for g in conn.execute(
        select(GROUPS.c.name).join(MEMBERS, MEMBERS.c.group_id == GROUPS.c.id)
        .where(MEMBERS.c.user_id == uid).order_by(GROUPS.c.name)).scalars()]
    accounts = [dict(a._mapping) for a in conn.execute(
        select(ACCOUNTS.c.id, ACCOUNTS.c.kind, ACCOUNTS.c.name, ACCOUNTS.c.currency,
               ACCOUNTS.c.opening_balance, ACCOUNTS.c.balance, ACCOUNTS.c.restricted,
               ACCOUNTS.c.credit_limit).where(ACCOUNTS.c.owner_id == uid))]
    ledger = [dict(r._mapping) for r in conn.execute(
        select(LEDGER.c.id, LEDGER.c.account_id, LEDGER.c.amount, LEDGER.c.balance_after,
               LEDGER.c.kind, LEDGER.c.reason, LEDGER.c.actor, LEDGER.c.job_uuid,
               LEDGER.c.created_at)
        .where(LEDGER.c.account_id.in_([a["id"] for a in accounts])).order_by(LEDGER.c.id))]
    return {"profile": _plain(profile), "groups": groups,
            "accounts": [_plain(a) for a in accounts],
            "transactions": [_plain(r) for r in ledger],
            "jobs": [_plain(j) for j in personal.job_metadata(conn, str(row["username"]))]}
