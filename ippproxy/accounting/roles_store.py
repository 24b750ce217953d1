"""Role states in the user store, and a user's resolved roles (on a Connection).

The states are rows (no row = indeterminate); :func:`ippproxy.accounting.roles.resolve`
decides. ``set_*`` with ``RoleState.INDETERMINATE`` deletes the row.
"""

from __future__ import annotations

import uuid

from sqlalchemy import Connection, Table, bindparam, delete, insert, literal, select, union_all

from ippproxy.accounting.errors import NotFound
from ippproxy.accounting.identity import canonical_name
from ippproxy.accounting.models import (
    BUILTIN_ROLES,
    GROUP_ROLES,
    GROUPS,
    MEMBERS,
    USER_ROLES,
    USERS,
)
from ippproxy.accounting.roles import (
    BuiltinGroup,
    Resolution,
    Role,
    RoleState,
    RoleStates,
    resolve,
)
from ippproxy.db.prepared import Prepared


def _state(enabled: object) -> RoleState:
    if enabled is None:
        return RoleState.INDETERMINATE
    return RoleState.ENABLED if enabled else RoleState.DISABLED


def _put(conn: Connection, table: Table, key: dict[str, object], role: Role,
         state: RoleState) -> None:
    where = [table.c[k] == v for k, v in key.items()] + [table.c.role == role.value]
    conn.execute(delete(table).where(*where))
    if state is not RoleState.INDETERMINATE:
        conn.execute(insert(table).values(**key, role=role.value,
                                          enabled=state is RoleState.ENABLED))


def _group_id(conn: Connection, name: str) -> object:
    gid = conn.execute(select(GROUPS.c.id).where(GROUPS.c.name == canonical_name(name))).scalar()
    if gid is None:
        raise NotFound(f"unknown group {canonical_name(name)!r}")
    return gid


def set_user_role(conn: Connection, user_id: uuid.UUID, role: Role, state: RoleState) -> None:
    _put(conn, USER_ROLES, {"user_id": user_id}, role, state)


def set_group_role(conn: Connection, group: str, role: Role, state: RoleState) -> None:
    _put(conn, GROUP_ROLES, {"group_id": _group_id(conn, group)}, role, state)


def set_builtin_role(conn: Connection, builtin: BuiltinGroup, role: Role,
                     state: RoleState) -> None:
    _put(conn, BUILTIN_ROLES, {"builtin": builtin.value}, role, state)


def user_states(conn: Connection, user_id: uuid.UUID) -> dict[Role, RoleState]:
    rows = conn.execute(select(USER_ROLES.c.role, USER_ROLES.c.enabled)
                        .where(USER_ROLES.c.user_id == user_id))
    return {Role(r): _state(e) for r, e in rows}


def group_states(conn: Connection, group: str) -> dict[Role, RoleState]:
    rows = conn.execute(select(GROUP_ROLES.c.role, GROUP_ROLES.c.enabled)
                        .where(GROUP_ROLES.c.group_id == _group_id(conn, group)))
    return {Role(r): _state(e) for r, e in rows}


def builtin_states(conn: Connection, builtin: BuiltinGroup) -> dict[Role, RoleState]:
    rows = conn.execute(select(BUILTIN_ROLES.c.role, BUILTIN_ROLES.c.enabled)
                        .where(BUILTIN_ROLES.c.builtin == builtin.value))
    return {Role(r): _state(e) for r, e in rows}


# Every state that decides one role for one user: the four sources as one UNION ALL,
# built and compiled once (db/prepared.py): it is on the intake's path (README, "Figures").
_STATES = Prepared(union_all(
    select(literal("internal").label("kind"), literal("").label("name"),
           USERS.c.internal.label("enabled")).where(USERS.c.id == bindparam("user_id")),
    select(literal("user"), literal(""), USER_ROLES.c.enabled).where(
        USER_ROLES.c.user_id == bindparam("user_id"), USER_ROLES.c.role == bindparam("role")),
    select(literal("group"), GROUPS.c.name, GROUP_ROLES.c.enabled)
    .join(MEMBERS, MEMBERS.c.group_id == GROUPS.c.id)
    .join(GROUP_ROLES, GROUP_ROLES.c.group_id == GROUPS.c.id)
    .where(MEMBERS.c.user_id == bindparam("user_id"), GROUP_ROLES.c.role == bindparam("role")),
    select(literal("builtin"), BUILTIN_ROLES.c.builtin, BUILTIN_ROLES.c.enabled)
    .where(BUILTIN_ROLES.c.role == bindparam("role"))))


def states_for(conn: Connection, user_id: uuid.UUID, role: Role) -> tuple[RoleStates, bool]:
    """Every state that decides ``role`` for this user, and whether the user is internal:
    one statement (it is on the intake's path)."""
    internal, own = False, None
    groups: dict[str, RoleState] = {}
    builtin: dict[str, object] = {}
    for kind, name, enabled in _STATES.rows(conn, {"user_id": user_id, "role": role.value}):
        if kind == "internal":
            internal = bool(enabled)
        elif kind == "user":
            own = enabled
        elif kind == "group":
            groups[name] = _state(enabled)
        else:
            builtin[name] = enabled
    kind_group = BuiltinGroup.INTERNAL_USERS if internal else BuiltinGroup.EXTERNAL_USERS
    return RoleStates(user=_state(own), groups=groups,
                      kind_group=_state(builtin.get(kind_group.value)),
                      all_users=_state(builtin.get(BuiltinGroup.ALL_USERS.value))), internal


def user_role(conn: Connection, user_id: uuid.UUID, role: Role) -> Resolution:
    states, internal = states_for(conn, user_id, role)
    return resolve(role, states, internal=internal)
