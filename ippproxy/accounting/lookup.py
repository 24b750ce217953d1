"""Finding a live user the way a cashier asks (SavaPage "Point-of-Sale", issue 18): by
the user id (exact, or a part of it), a part of the full name, the card number or the ID
number (exact). At most ``limit`` matches by name: the exact matches (indexed) when
there are any, else the users whose id or full name holds the text (a scan)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Select, func, or_, select

from ippproxy.accounting.identity import canonical_name
from ippproxy.accounting.models import ACCOUNTS, USER_PROFILE, USERS


def _select() -> Select[Any]:
    return (select(USERS.c.username, USERS.c.full_name, USERS.c.disabled, USERS.c.internal,
                   ACCOUNTS.c.id.label("account_id"), ACCOUNTS.c.balance, ACCOUNTS.c.currency)
            .join(ACCOUNTS, (ACCOUNTS.c.owner_id == USERS.c.id) & (ACCOUNTS.c.kind == "personal")))


def find_users(conn: Connection, text: str, limit: int = 20) -> list[dict[str, Any]]:
    raw = text.strip()
    if not raw:
        return []
    try:
        name = canonical_name(raw)
    except ValueError:
        return []
    number = select(USER_PROFILE.c.user_id).where(USER_PROFILE.c.id_number == raw)
    # The exact id, card or ID number first (indexed): a cashier mostly has one of them.
    exact = conn.execute(_select().where(
        USERS.c.deleted_at.is_(None),
        or_(USERS.c.username == name, USERS.c.card_number.in_([raw, raw.upper()]),
            USERS.c.id.in_(number))).order_by(USERS.c.username).limit(limit)).mappings().all()
    if exact:
        return [dict(m) for m in exact]
    stmt = (_select()
            .where(USERS.c.deleted_at.is_(None),
                   or_(USERS.c.username.contains(name, autoescape=True),
                       func.lower(USERS.c.full_name).contains(raw.lower(), autoescape=True)))
            .order_by(USERS.c.username).limit(limit))
    return [dict(m) for m in conn.execute(stmt).mappings()]


def find_user(conn: Connection, username: str) -> dict[str, Any] | None:
    """One live user by exact id, with the personal account (None: no such user)."""
    found = conn.execute(
        select(USERS.c.username, USERS.c.full_name, USERS.c.disabled,
               ACCOUNTS.c.id.label("account_id"), ACCOUNTS.c.balance, ACCOUNTS.c.currency)
        .join(ACCOUNTS, (ACCOUNTS.c.owner_id == USERS.c.id) & (ACCOUNTS.c.kind == "personal"))
        .where(USERS.c.deleted_at.is_(None), USERS.c.username == canonical_name(username))
    ).mappings().first()
    return None if found is None else dict(found)


def owner_name(conn: Connection, account_id: object) -> str | None:
    """The user name of a personal account's owner (None: shared, or no such account)."""
    found = conn.execute(select(USERS.c.username)
                         .join(ACCOUNTS, ACCOUNTS.c.owner_id == USERS.c.id)
                         .where(ACCOUNTS.c.id == account_id)).scalar()
    return None if found is None else str(found)
