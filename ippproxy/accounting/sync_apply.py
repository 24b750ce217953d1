"""The user store's side of a user source sync: its records, and applying a plan
(sync_plan.py) on one Connection (the caller's transaction: all or nothing).

Users a sync creates are external and carry ``source = "ldap"`` in acct_user_profile;
only those are candidates for deletion, and deletion is logical (users.delete_user).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import Connection, delete, insert, select, update

from ippproxy.accounting import users
from ippproxy.accounting.errors import InvalidOperation
from ippproxy.accounting.ledger import Kind, post
from ippproxy.accounting.models import ACCOUNTS, GROUPS, MEMBERS, USER_PROFILE, USERS
from ippproxy.accounting.sync_plan import Field, SyncPlan, UserRecord
from ippproxy.db.base import utcnow

SOURCE = "ldap"
_BATCH = 500


def records(conn: Connection) -> tuple[dict[str, UserRecord], frozenset[str], frozenset[str]]:
    """(live users by name, names of users a sync created, every group name)."""
    ids: dict[object, str] = {}
    rows: dict[str, dict[str, object]] = {}
    synced: set[str] = set()
    stmt = (select(USERS.c.id, USERS.c.username, USERS.c.full_name, USERS.c.email,
                   USERS.c.card_number, USER_PROFILE.c.id_number, USER_PROFILE.c.source)
            .outerjoin(USER_PROFILE, USER_PROFILE.c.user_id == USERS.c.id)
            .where(USERS.c.deleted_at.is_(None)))
    for uid, name, full, email, card, id_number, source in conn.execute(stmt):
        ids[uid] = name
        rows[name] = {"full_name": full or "", "email": email, "card_number": card,
                      "id_number": id_number}
        if source == SOURCE:
            synced.add(name)
    member_of: dict[str, set[str]] = defaultdict(set)
    for uid, group in conn.execute(select(MEMBERS.c.user_id, GROUPS.c.name)
                                   .join(GROUPS, GROUPS.c.id == MEMBERS.c.group_id)):
        if uid in ids:
            member_of[ids[uid]].add(group)
    stored = {n: UserRecord(n, groups=frozenset(member_of.get(n, ())), **r)  # type: ignore[arg-type]
              for n, r in rows.items()}
    groups = frozenset(conn.execute(select(GROUPS.c.name)).scalars())
    return stored, frozenset(synced), groups


_COLUMNS = {Field.FULL_NAME: "full_name", Field.EMAIL: "email",
            Field.CARD_NUMBER: "card_number"}


def _clash(conn: Connection, name: str, column: str, value: str | None) -> None:
    if value is None or column != "card_number":
        return
    other = conn.execute(select(USERS.c.username).where(
        USERS.c.card_number == value, USERS.c.deleted_at.is_(None),
        USERS.c.username != name)).scalar()
    if other is not None:
        raise InvalidOperation(f"card number of {name!r} is already user {other!r}'s")


def apply(conn: Connection, plan: SyncPlan, *, defaults: users.UserDefaults,
          delete_missing: bool = False, actor: str = "directory sync") -> None:
    """Write the plan; the deletes only when ``delete_missing``. Raises InvalidOperation
    (nothing written, the caller rolls back) when a card number is another user's."""
    for group in plan.new_groups:
        users.add_group(conn, group)
    gids = {n: i for n, i in conn.execute(select(GROUPS.c.name, GROUPS.c.id))}
    members: list[dict[str, object]] = []
    for rec, uid in _add_users(conn, plan.adds, defaults, actor):
        members += [{"group_id": gids[g], "user_id": uid} for g in sorted(rec.groups)]
    for change in plan.changes:
        uid = uuid.UUID(str(users.get_user(conn, change.name)._mapping["id"]))
        values = {}
        for f, (_, new) in change.fields.items():
            if f is Field.ID_NUMBER:
                _set_id_number(conn, uid, new)
            else:
                _clash(conn, change.name, _COLUMNS[f], new)
                values[_COLUMNS[f]] = new if f is not Field.FULL_NAME else (new or "")
        if values:
            conn.execute(update(USERS).where(USERS.c.id == uid).values(**values))
        members += [{"group_id": gids[g], "user_id": uid} for g in sorted(change.join)]
        if change.leave:
            conn.execute(delete(MEMBERS).where(
                MEMBERS.c.user_id == uid,
                MEMBERS.c.group_id.in_([gids[g] for g in change.leave])))
    for i in range(0, len(members), _BATCH):
        conn.execute(insert(MEMBERS), members[i:i + _BATCH])
    if delete_missing:
        for name in plan.deletes:
            users.delete_user(conn, name)


def _add_users(conn: Connection, recs: Sequence[UserRecord], defaults: users.UserDefaults,
               actor: str) -> list[tuple[UserRecord, uuid.UUID]]:
    """Users and their personal accounts in batches (what users.add_user does one by one;
    the plan was made in this transaction, so none of the names is taken). The opening
    credit, when the defaults give one, is a ledger row per account."""
    cards = [r.card_number for r in recs if r.card_number]
    for i in range(0, len(cards), _BATCH):
        taken = conn.execute(select(USERS.c.username, USERS.c.card_number).where(
            USERS.c.card_number.in_(cards[i:i + _BATCH]), USERS.c.deleted_at.is_(None))).first()
        if taken is not None:
            raise InvalidOperation(f"card number {taken[1]} is already user {taken[0]!r}'s")
    now = utcnow()
    done: list[tuple[UserRecord, uuid.UUID]] = []
    user_rows, account_rows, profile_rows = [], [], []
    for r in recs:
        uid, aid = uuid.uuid4(), uuid.uuid4()
        done.append((r, uid))
        user_rows.append({"id": uid, "username": r.name, "internal": False,
                          "password_hash": None, "full_name": r.full_name, "email": r.email,
                          "card_number": r.card_number, "created_at": now})
        account_rows.append({"id": aid, "kind": "personal", "owner_id": uid, "name": r.name,
                             "currency": defaults.currency, "opening_balance": 0, "balance": 0,
                             "restricted": defaults.restricted,
                             "credit_limit": defaults.credit_limit, "created_at": now})
        profile_rows.append({"user_id": uid, "id_number": r.id_number, "source": SOURCE})
    for table, rows in ((USERS, user_rows), (ACCOUNTS, account_rows),
                        (USER_PROFILE, profile_rows)):
        for i in range(0, len(rows), _BATCH):
            conn.execute(insert(table), rows[i:i + _BATCH])
    if defaults.balance:
        for row in account_rows:
            post(conn, row["id"], defaults.balance,  # type: ignore[arg-type]
                 kind=Kind.INITIAL, reason="initial balance", actor=actor,
                 key=f"initial:{row['id']}")
    return done


def _set_id_number(conn: Connection, uid: uuid.UUID, value: str | None) -> None:
    done = conn.execute(update(USER_PROFILE).where(USER_PROFILE.c.user_id == uid)
                        .values(id_number=value)).rowcount
    if not done:
        conn.execute(insert(USER_PROFILE).values(user_id=uid, id_number=value, source=""))
