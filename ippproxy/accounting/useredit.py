"""The edit-user fields on a Connection (SavaPage manual, "Users", §4.4.4; issue 18):
e-mail addresses, card and ID number (each unique among live users), the PIN (argon2),
the UUID token, person or abstract, the balance (a correction is a ledger row) and where
the credit limit comes from.

Uniqueness holds among live users (a deleted user keeps its data for its history), so it
is checked here inside the writing transaction; a clash raises :class:`Duplicate` naming
the field and, for admins, the other owner.
"""

from __future__ import annotations

import enum
import uuid
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, text, update

from ippproxy.accounting import users
from ippproxy.accounting.errors import NotFound
from ippproxy.accounting.ledger import Kind, Posting, lock_account, post
from ippproxy.accounting.models import ACCOUNTS, USER_EMAILS, USER_PROFILE, USERS
from ippproxy.accounting.userfields import FieldError


class Duplicate(FieldError):
    """The value belongs to another live user; ``owner`` is that user's name (for admins
    only: a user is told only which field clashed)."""

    def __init__(self, field: str, owner: str) -> None:
        super().__init__(field, "already used by another user")
        self.owner = owner


class CreditSource(enum.StrEnum):
    NONE = "none"  # no credit limit: the account is unrestricted
    GROUP = "group"  # the default of the user's group (its new-user settings)
    INDIVIDUAL = "individual"  # this user's own limit


def profile(conn: Connection, user_id: uuid.UUID) -> dict[str, Any]:
    row = conn.execute(select(USER_PROFILE).where(USER_PROFILE.c.user_id == user_id)).first()
    if row is None:
        return {"id_number": None, "source": "", "pin_hash": None, "uuid_token": None,
                "abstract": False, "credit_source": CreditSource.INDIVIDUAL.value,
                "erased_at": None}
    return dict(row._mapping)


def set_profile(conn: Connection, user_id: uuid.UUID, **values: object) -> None:
    done = conn.execute(update(USER_PROFILE).where(USER_PROFILE.c.user_id == user_id)
                        .values(**values)).rowcount
    if not done:
        conn.execute(insert(USER_PROFILE).values({"source": "", **values, "user_id": user_id}))


def emails(conn: Connection, user_id: uuid.UUID) -> list[str]:
    """The user's addresses, primary first (the users row's own ``email`` when none was
    entered on the edit page: a directory sync writes only that one)."""
    rows = conn.execute(select(USER_EMAILS.c.email).where(USER_EMAILS.c.user_id == user_id)
                        .order_by(USER_EMAILS.c.position)).scalars().all()
    if rows:
        return list(rows)
    one = conn.execute(select(USERS.c.email).where(USERS.c.id == user_id)).scalar()
    return [one] if one else []


def _claim(conn: Connection, field: str, value: str) -> None:
    """Serialise the writers of one value until this transaction ends, so that two users
    cannot both pass the uniqueness check with it: on PostgreSQL a transaction-level
    advisory lock on the value; SQLite's writers are serialised already (BEGIN IMMEDIATE,
    db/engine.py)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                     {"key": f"acct-user-{field}:{value}"})


def _live_other(user_id: uuid.UUID) -> Any:
    return (USERS.c.deleted_at.is_(None), USERS.c.id != user_id)


def set_emails(conn: Connection, user_id: uuid.UUID, addresses: tuple[str, ...]) -> None:
    """Replace the user's addresses (lower-cased, primary first; userfields.emails)."""
    for address in addresses:
        _claim(conn, "email", address)
        owner = conn.execute(
            select(USERS.c.username).join(USER_EMAILS, USER_EMAILS.c.user_id == USERS.c.id)
            .where(USER_EMAILS.c.email == address, *_live_other(user_id))).scalar()
        owner = owner or conn.execute(select(USERS.c.username).where(
            func.lower(USERS.c.email) == address, *_live_other(user_id))).scalar()
        if owner is not None:
            raise Duplicate("email", str(owner))
    conn.execute(delete(USER_EMAILS).where(USER_EMAILS.c.user_id == user_id))
    for i, address in enumerate(addresses):
        conn.execute(insert(USER_EMAILS).values(user_id=user_id, email=address, position=i))
    conn.execute(update(USERS).where(USERS.c.id == user_id)
                 .values(email=addresses[0] if addresses else None))


def set_card(conn: Connection, user_id: uuid.UUID, card: str | None) -> None:
    if card is not None:
        _claim(conn, "card-number", card)
        owner = conn.execute(select(USERS.c.username).where(
            USERS.c.card_number == card, *_live_other(user_id))).scalar()
        if owner is not None:
            raise Duplicate("card-number", str(owner))
    conn.execute(update(USERS).where(USERS.c.id == user_id).values(card_number=card))


def set_id_number(conn: Connection, user_id: uuid.UUID, number: str | None) -> None:
    if number is not None:
        _claim(conn, "id-number", number)
        owner = conn.execute(
            select(USERS.c.username).join(USER_PROFILE, USER_PROFILE.c.user_id == USERS.c.id)
            .where(USER_PROFILE.c.id_number == number, *_live_other(user_id))).scalar()
        if owner is not None:
            raise Duplicate("id-number", str(owner))
    set_profile(conn, user_id, id_number=number)


def set_pin(conn: Connection, user_id: uuid.UUID, pin: str | None) -> None:
    """``pin`` checked by userfields.pin; ``None`` removes it. Stored hashed (argon2)."""
    set_profile(conn, user_id, pin_hash=users.hash_secret(pin) if pin else None)


def verify_user_pin(conn: Connection, username: str, pin: str) -> bool:
    """Whether ``pin`` is the PIN of the live, enabled user ``username`` (for card + PIN
    release and the like). A user without a PIN never matches; the work is the same."""
    try:
        row = users.find_user(conn, username)
    except ValueError:
        row = None
    if row is None or row._mapping["disabled"]:
        users.burn_verify(pin)
        return False
    hashed = profile(conn, row._mapping["id"])["pin_hash"]
    if not hashed:
        users.burn_verify(pin)
        return False
    return users.verify_secret(hashed, pin)


def name_or_id_number(conn: Connection, text: str) -> str | None:
    """The live, enabled user named ``text`` (canonicalised), else the one whose ID number
    it is: the one box of a release station's "name + PIN" (a name wins over a number)."""
    try:
        row = users.find_user(conn, text)
    except ValueError:
        row = None
    if row is not None:
        return None if row._mapping["disabled"] else str(row._mapping["username"])
    found = conn.execute(
        select(USERS.c.username).join(USER_PROFILE, USER_PROFILE.c.user_id == USERS.c.id)
        .where(USER_PROFILE.c.id_number == text, USERS.c.deleted_at.is_(None),
               USERS.c.disabled.is_(False))).scalar()
    return None if found is None else str(found)


def new_token(conn: Connection, user_id: uuid.UUID) -> str:
    """A fresh UUID token (the Generate button); the old one stops working."""
    token = str(uuid.uuid4())
    set_profile(conn, user_id, uuid_token=token)
    return token


def ensure_token(conn: Connection, user_id: uuid.UUID) -> str:
    """The user's token, created at the first login (SavaPage §4.4.4.5)."""
    return profile(conn, user_id)["uuid_token"] or new_token(conn, user_id)


def ensure_token_for(conn: Connection, username: str) -> str | None:
    """At a login: the live user's token, created now if it has none (None: no such
    user in the user store, e.g. the master admin)."""
    try:
        row = users.find_user(conn, username)
    except ValueError:
        return None
    return None if row is None else ensure_token(conn, row._mapping["id"])


def user_by_token(conn: Connection, token: str) -> str | None:
    """The live, enabled user whose UUID token this is (a personal printer URL's secret)."""
    return conn.execute(
        select(USERS.c.username).join(USER_PROFILE, USER_PROFILE.c.user_id == USERS.c.id)
        .where(USER_PROFILE.c.uuid_token == token, USERS.c.deleted_at.is_(None),
               USERS.c.disabled.is_(False))).scalar()


def set_balance(conn: Connection, user_id: uuid.UUID, balance: int, *, reason: str,
                actor: str, key: str) -> Posting | None:
    """Set the personal balance: one correction row of the difference (SavaPage
    §4.4.4.6), none when it is already so. ``key`` makes a retry apply once."""
    account_id = users.personal_account(conn, user_id)._mapping["id"]
    current = lock_account(conn, account_id)._mapping["balance"]
    if balance == current:
        return None
    return post(conn, account_id, balance - current, kind=Kind.ADJUST,
                reason=f"balance set: {reason}", actor=actor, key=f"set-balance:{key}")


def set_credit(conn: Connection, user_id: uuid.UUID, source: CreditSource,
               limit: int, group_default: users.UserDefaults) -> None:
    """None: unrestricted; group: the group default's restriction and limit; individual:
    restricted to ``limit`` (minor units, >= 0)."""
    if limit < 0:
        raise FieldError("credit-limit", "zero or more")
    if source == CreditSource.NONE:
        values: dict[str, object] = {"restricted": False}
    elif source == CreditSource.GROUP:
        values = {"restricted": group_default.restricted,
                  "credit_limit": group_default.credit_limit}
    else:
        values = {"restricted": True, "credit_limit": limit}
    conn.execute(update(ACCOUNTS).where(ACCOUNTS.c.owner_id == user_id).values(**values))
    set_profile(conn, user_id, credit_source=source.value)


def credit(conn: Connection, user_id: uuid.UUID) -> dict[str, Any]:
    a = users.personal_account(conn, user_id)._mapping
    source = profile(conn, user_id)["credit_source"]
    if not a["restricted"]:
        source = CreditSource.NONE.value
    return {"balance": a["balance"], "currency": a["currency"], "credit_source": source,
            "credit_limit": a["credit_limit"], "restricted": a["restricted"]}


def user_row(conn: Connection, user_id: uuid.UUID) -> dict[str, Any]:
    row = conn.execute(select(USERS).where(USERS.c.id == user_id)).first()
    if row is None:
        raise NotFound(f"no user with id {user_id}")
    return dict(row._mapping)


def is_deleted(conn: Connection, username: str) -> bool:
    """Whether only deleted users have this (canonical) name."""
    return conn.execute(select(USERS.c.id).where(USERS.c.username == username,
                                                 USERS.c.deleted_at.is_not(None))
                        ).first() is not None


def set_user_columns(conn: Connection, user_id: uuid.UUID, *, full_name: str | None = None,
                     admin: bool | None = None, disabled: bool | None = None) -> None:
    values = {k: v for k, v in (("full_name", full_name), ("admin", admin),
                                ("disabled", disabled)) if v is not None}
    conn.execute(update(USERS).where(USERS.c.id == user_id).values(**values))


def set_password(conn: Connection, user_id: uuid.UUID, password: str | None) -> None:
    """Reset (argon2) or, with ``None``, erase: login by password impossible until reset."""
    conn.execute(update(USERS).where(USERS.c.id == user_id).values(
        password_hash=users.hash_secret(password) if password else None))


def group_default(conn: Connection, user_id: uuid.UUID, currency: str) -> users.UserDefaults:
    """The credit default of the user's group: the new-user settings of the first of its
    groups (by name); else restricted with a limit of 0."""
    for name in users.user_groups(conn, user_id):
        found = users.group_defaults(conn, name, currency)
        if found is not None:
            return found
    return users.UserDefaults(currency)
