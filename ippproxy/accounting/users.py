"""Users, groups and accounts: creation, properties, access (on a Connection).

All names go through :func:`ippproxy.accounting.identity.canonical_name` here,
at the boundary; rows hold canonical names and everything else uses UUIDs.
Passwords and account PINs are stored as argon2 hashes only.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, Row, insert, or_, select, update

from ippproxy.accounting.errors import (
    AccessDenied,
    AccountClosed,
    InvalidOperation,
    NotFound,
    WrongPin,
)
from ippproxy.accounting.identity import canonical_name
from ippproxy.accounting.ledger import Kind, post
from ippproxy.accounting.models import ACCESS, ACCOUNTS, GROUPS, MEMBERS, USERS
from ippproxy.db.base import utcnow

_hasher = PasswordHasher()


@dataclass(frozen=True)
class UserDefaults:
    """Financial defaults of a new user's personal account."""

    currency: str = "EUR"
    balance: int = 0
    restricted: bool = True
    credit_limit: int = 0


def hash_secret(secret: str) -> str:
    return _hasher.hash(secret)


_dummy: list[str] = []


def burn_verify(secret: str) -> None:
    """The work of a real verification, for a name that has no password: answering an
    unknown user faster than a wrong password would tell an attacker which names exist."""
    if not _dummy:
        _dummy.append(_hasher.hash("no such user"))
    verify_secret(_dummy[0], secret)


def verify_secret(hashed: str | None, secret: str) -> bool:
    if not hashed:
        return False
    try:
        return _hasher.verify(hashed, secret)
    except (VerificationError, InvalidHashError):
        return False


def find_user(conn: Connection, username: str) -> Row[tuple[object, ...]] | None:
    """The live (not deleted) user with this name, canonicalised first."""
    return conn.execute(select(USERS).where(USERS.c.username == canonical_name(username),
                                            USERS.c.deleted_at.is_(None))).first()


def name_by_card(conn: Connection, card_number: str) -> str | None:
    """The live, enabled user whose card this is (a release station's card login)."""
    found = conn.execute(select(USERS.c.username).where(
        USERS.c.card_number == card_number, USERS.c.deleted_at.is_(None),
        USERS.c.disabled.is_(False))).scalar()
    return None if found is None else str(found)


def get_user(conn: Connection, username: str) -> Row[tuple[object, ...]]:
    row = find_user(conn, username)
    if row is None:
        raise NotFound(f"unknown user {canonical_name(username)!r}")
    return row


def user_groups(conn: Connection, user_id: uuid.UUID) -> list[str]:
    rows = conn.execute(select(GROUPS.c.name).join(MEMBERS, MEMBERS.c.group_id == GROUPS.c.id)
                        .where(MEMBERS.c.user_id == user_id).order_by(GROUPS.c.name))
    return [r[0] for r in rows]


def group_defaults(conn: Connection, group: str, currency: str) -> UserDefaults | None:
    row = conn.execute(select(GROUPS).where(GROUPS.c.name == canonical_name(group))).first()
    if row is None:
        return None
    g = row._mapping
    return UserDefaults(currency, g["initial_balance"], g["initial_restricted"],
                        g["initial_credit_limit"])


def add_user(conn: Connection, username: str, *, defaults: UserDefaults,
             internal: bool = False, password: str | None = None, full_name: str = "",
             email: str | None = None, card_number: str | None = None,
             groups: tuple[str, ...] = (), actor: str = "system") -> uuid.UUID:
    """Create a user and its personal account (opening credit as a ledger row)."""
    name = canonical_name(username)
    if find_user(conn, name) is not None:
        raise InvalidOperation(f"user {name!r} exists")
    # An internal user without a password cannot authenticate (IPP Basic) until one is
    # set (set-user-property NAME password): where no queue authenticates, none is needed.
    user_id = uuid.uuid4()
    conn.execute(insert(USERS).values(
        id=user_id, username=name, internal=internal,
        password_hash=hash_secret(password) if password else None, full_name=full_name,
        email=email, card_number=card_number, created_at=utcnow()))
    for g in groups:
        add_member(conn, g, name)
    account_id = uuid.uuid4()
    conn.execute(insert(ACCOUNTS).values(
        id=account_id, kind="personal", owner_id=user_id, name=name,
        currency=defaults.currency, opening_balance=0, balance=0,
        restricted=defaults.restricted, credit_limit=defaults.credit_limit,
        created_at=utcnow()))
    if defaults.balance:
        post(conn, account_id, defaults.balance, kind=Kind.INITIAL, reason="initial balance",
             actor=actor, key=f"initial:{account_id}")
    return user_id


USER_PROPERTIES = ("full-name", "email", "card-number", "password", "disabled", "admin",
                   "restricted", "internal")


def set_user_property(conn: Connection, username: str, prop: str, value: str) -> None:
    user = get_user(conn, username)._mapping
    column = prop.replace("-", "_")
    flags = ("disabled", "admin", "internal")
    if prop in ("full-name", "email", "card-number"):
        conn.execute(update(USERS).where(USERS.c.id == user["id"])
                     .values({column: value or None} if prop != "full-name"
                             else {column: value}))
    elif prop == "password":
        conn.execute(update(USERS).where(USERS.c.id == user["id"])
                     .values(password_hash=hash_secret(value) if value else None))
    elif prop in flags or prop == "restricted":
        if value.lower() not in ("true", "false"):
            raise InvalidOperation(f"{prop}: expected true or false")
        flag = value.lower() == "true"
        if prop == "restricted":
            conn.execute(update(ACCOUNTS).where(ACCOUNTS.c.owner_id == user["id"])
                         .values(restricted=flag))
        else:
            conn.execute(update(USERS).where(USERS.c.id == user["id"]).values({column: flag}))
    else:
        raise InvalidOperation(f"unknown property {prop!r}; one of {', '.join(USER_PROPERTIES)}")


def delete_user(conn: Connection, username: str) -> uuid.UUID:
    """Logical delete: the row and its ledger stay; the name becomes free."""
    user = get_user(conn, username)._mapping
    conn.execute(update(USERS).where(USERS.c.id == user["id"])
                 .values(deleted_at=utcnow(), disabled=True))
    conn.execute(update(ACCOUNTS).where(ACCOUNTS.c.owner_id == user["id"])
                 .values(disabled=True))
    return uuid.UUID(str(user["id"]))


def authenticate(conn: Connection, username: str, password: str) -> uuid.UUID | None:
    """User id if the password matches a live, enabled user (HTTP Basic), else None."""
    try:
        row = find_user(conn, username)
    except ValueError:
        return None
    if row is None or row._mapping["disabled"] or not row._mapping["password_hash"]:
        burn_verify(password)
        return None
    ok = verify_secret(row._mapping["password_hash"], password)
    return uuid.UUID(str(row._mapping["id"])) if ok else None


def add_group(conn: Connection, name: str, **values: object) -> uuid.UUID:
    group_id = uuid.uuid4()
    conn.execute(insert(GROUPS).values(id=group_id, name=canonical_name(name),
                                       created_at=utcnow(), **values))
    return group_id


def set_group(conn: Connection, name: str, **values: object) -> None:
    gid = _group_id(conn, name)
    conn.execute(update(GROUPS).where(GROUPS.c.id == gid).values(**values))


def _group_id(conn: Connection, name: str) -> uuid.UUID:
    gid = conn.execute(select(GROUPS.c.id).where(GROUPS.c.name == canonical_name(name))).scalar()
    if gid is None:
        raise NotFound(f"unknown group {canonical_name(name)!r}")
    return uuid.UUID(str(gid))


def add_member(conn: Connection, group: str, username: str) -> None:
    gid = _group_id(conn, group)
    uid = get_user(conn, username)._mapping["id"]
    exists = conn.execute(select(MEMBERS).where(MEMBERS.c.group_id == gid,
                                                MEMBERS.c.user_id == uid)).first()
    if exists is None:
        conn.execute(insert(MEMBERS).values(group_id=gid, user_id=uid))


def personal_account(conn: Connection, user_id: uuid.UUID) -> Row[tuple[object, ...]]:
    row = conn.execute(select(ACCOUNTS).where(ACCOUNTS.c.owner_id == user_id)).first()
    if row is None:
        raise NotFound("the user has no personal account")
    return row


def shared_account(conn: Connection, code: str) -> Row[tuple[object, ...]]:
    row = conn.execute(select(ACCOUNTS).where(ACCOUNTS.c.code == code,
                                              ACCOUNTS.c.kind == "shared")).first()
    if row is None:
        raise NotFound(f"unknown shared account {code!r}")
    return row


def add_shared_account(conn: Connection, name: str, code: str, *, currency: str,
                       pin: str | None = None, parent_code: str | None = None,
                       restricted: bool = True, credit_limit: int = 0,
                       balance: int = 0, actor: str = "system") -> uuid.UUID:
    if not code or len(code) > 64:
        raise InvalidOperation("an account code is 1 to 64 characters")
    if conn.execute(select(ACCOUNTS.c.id).where(ACCOUNTS.c.code == code)).first():
        raise InvalidOperation(f"account code {code!r} exists")
    parent = shared_account(conn, parent_code)._mapping["id"] if parent_code else None
    account_id = uuid.uuid4()
    conn.execute(insert(ACCOUNTS).values(
        id=account_id, kind="shared", name=name, code=code,
        pin_hash=hash_secret(pin) if pin else None, parent_id=parent, currency=currency,
        opening_balance=0, balance=0, restricted=restricted, credit_limit=credit_limit,
        created_at=utcnow()))
    if balance:
        post(conn, account_id, balance, kind=Kind.INITIAL, reason="initial balance",
             actor=actor, key=f"initial:{account_id}")
    return account_id


def grant_account(conn: Connection, code: str, *, user: str | None = None,
                  group: str | None = None) -> None:
    if (user is None) == (group is None):
        raise InvalidOperation("grant to exactly one user or one group")
    account_id = shared_account(conn, code)._mapping["id"]
    values: dict[str, object] = {"account_id": account_id}
    if user is not None:
        values["user_id"] = get_user(conn, user)._mapping["id"]
    else:
        values["group_id"] = _group_id(conn, group or "")
    conn.execute(insert(ACCESS).values(**values))


def check_access(conn: Connection, user_id: uuid.UUID, account: Row[tuple[object, ...]],
                 pin: str | None) -> None:
    """Raise AccessDenied unless the user may charge this shared account.

    Access granted on an account covers its sub-accounts. A PIN, when set on the
    account, is required in addition to access.
    """
    a = account._mapping
    if a["disabled"]:
        raise AccountClosed("the account is disabled")
    if a["pin_hash"] and not verify_secret(a["pin_hash"], pin or ""):
        raise WrongPin("wrong or missing account PIN")
    groups = select(MEMBERS.c.group_id).where(MEMBERS.c.user_id == user_id)
    current: object = a["id"]
    for _ in range(32):  # parent chain, bounded against cycles
        hit = conn.execute(select(ACCESS.c.id).where(
            ACCESS.c.account_id == current,
            or_(ACCESS.c.user_id == user_id, ACCESS.c.group_id.in_(groups)))).first()
        if hit is not None:
            return
        current = conn.execute(select(ACCOUNTS.c.parent_id)
                               .where(ACCOUNTS.c.id == current)).scalar()
        if current is None:
            break
    raise AccessDenied("you may not charge this account")
