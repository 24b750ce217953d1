"""The admin's edits of roles (accounting/roles.py): a user's own state, a group's, a
built-in group's (Internal Users, External Users, All Users), and a user's resolved roles
with the level that decided each. Reading is the ``users`` section, changing needs write
access to it; every change is audited with the state before and after.
Blocking (database): the web layer calls these in a thread."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Connection, Engine

from ippproxy.accounting import role_checks, roles_store
from ippproxy.accounting import users as accounting_users
from ippproxy.accounting.errors import NotFound as AccountingNotFound
from ippproxy.accounting.identity import canonical_name
from ippproxy.accounting.roles import BuiltinGroup, Role, RoleState
from ippproxy.accounting.txn import in_transaction
from ippproxy.services.actor import Access, Actor, Section
from ippproxy.services.auditsink import AuditSink, entry
from ippproxy.services.errors import Forbidden, Invalid, NotFound

#: The roles and the built-in groups by name, for the pages and the REST API.
ROLE_NAMES = tuple(r.value for r in Role)
BUILTIN_GROUPS = tuple(g.value for g in BuiltinGroup)
# The states a page offers for a role (roles.RoleState), in its order.
STATES = tuple(s.value for s in RoleState)


def _require(actor: Actor, access: Access) -> None:
    if not actor.may(Section.USERS, access):
        raise Forbidden(f"{access.name.lower()} access to {Section.USERS} is needed")


def _role(raw: str) -> Role:
    try:
        return Role(raw)
    except ValueError:
        raise Invalid("role", f"one of {', '.join(r.value for r in Role)}") from None


def _state(raw: str) -> RoleState:
    try:
        return RoleState(raw)
    except ValueError:
        raise Invalid("state", f"one of {', '.join(s.value for s in RoleState)}") from None


def _user_id(conn: Connection, raw: str) -> uuid.UUID:
    try:
        row = accounting_users.find_user(conn, canonical_name(raw))
    except ValueError as e:
        raise Invalid("username", str(e)) from None
    if row is None:
        raise NotFound("user", raw)
    return uuid.UUID(str(row._mapping["id"]))


class UserRoles:
    def __init__(self, engine: Engine, audit: AuditSink) -> None:
        self.engine = engine
        self.audit = audit

    def may_approve(self, username: str) -> bool:
        """Whether ``username`` holds release-approver now: the approval queues let such a
        user approve jobs on every queue, beside the approvers a queue names. A check of
        the server itself (no actor); an unknown or disabled user may not."""
        with self.engine.connect() as conn:
            return role_checks.may_approve(conn, username)

    def user_roles(self, actor: Actor, username: str) -> dict[str, dict[str, Any]]:
        """Per role: the user's own state, whether it is granted, and by which level."""
        _require(actor, Access.READ)
        with self.engine.connect() as conn:
            uid = _user_id(conn, username)
            own = roles_store.user_states(conn, uid)
            out = {}
            for role in Role:
                r = roles_store.user_role(conn, uid, role)
                out[role.value] = {"state": own.get(role, RoleState.INDETERMINATE).value,
                                   "granted": r.granted, "source": r.source}
            return out

    def set_user_role(self, actor: Actor, username: str, role: str, state: str) -> None:
        _require(actor, Access.WRITE)
        r, s = _role(role), _state(state)

        def work(conn: Connection) -> RoleState:
            uid = _user_id(conn, username)
            before = roles_store.user_states(conn, uid).get(r, RoleState.INDETERMINATE)
            roles_store.set_user_role(conn, uid, r, s)
            return before
        before = in_transaction(self.engine, work)
        self.audit.record(entry(actor, "user.role", f"user:{canonical_name(username)}",
                                {r.value: before.value}, {r.value: s.value}))

    def group_roles(self, actor: Actor, group: str) -> dict[str, str]:
        _require(actor, Access.READ)
        with self.engine.connect() as conn:
            states = self._group_states(conn, group)
        return {role.value: states.get(role, RoleState.INDETERMINATE).value for role in Role}

    def set_group_role(self, actor: Actor, group: str, role: str, state: str) -> None:
        """``group`` is a group's name or a built-in group (internal-users,
        external-users, all-users)."""
        _require(actor, Access.WRITE)
        r, s = _role(role), _state(state)

        def work(conn: Connection) -> RoleState:
            before = self._group_states(conn, group).get(r, RoleState.INDETERMINATE)
            builtin = _builtin(group)
            if builtin is not None:
                roles_store.set_builtin_role(conn, builtin, r, s)
            else:
                roles_store.set_group_role(conn, group, r, s)
            return before
        before = in_transaction(self.engine, work)
        self.audit.record(entry(actor, "group.role", f"group:{group}",
                                {r.value: before.value}, {r.value: s.value}))

    def set_group_roles(self, actor: Actor, group: str, wanted: dict[str, str]
                        ) -> dict[str, str]:
        """Several roles of a group at once (the group page's form): every value checked
        before any is written, one transaction, one audit entry with the roles that
        changed (before and after). Returns the group's states after."""
        _require(actor, Access.WRITE)
        states = {_role(r): _state(v) for r, v in wanted.items()}
        builtin = _builtin(group)

        def work(conn: Connection) -> dict[Role, RoleState]:
            before = self._group_states(conn, group)
            for r, s in states.items():
                if before.get(r, RoleState.INDETERMINATE) is s:
                    continue
                if builtin is not None:
                    roles_store.set_builtin_role(conn, builtin, r, s)
                else:
                    roles_store.set_group_role(conn, group, r, s)
            return before
        before = in_transaction(self.engine, work)
        changed = {r: s for r, s in states.items()
                   if before.get(r, RoleState.INDETERMINATE) is not s}
        if changed:
            self.audit.record(entry(
                actor, "group.role", f"group:{group}",
                {r.value: before.get(r, RoleState.INDETERMINATE).value for r in changed},
                {r.value: s.value for r, s in changed.items()}))
        return self.group_roles(actor, group)

    def _group_states(self, conn: Connection, group: str) -> dict[Role, RoleState]:
        builtin = _builtin(group)
        if builtin is not None:
            return roles_store.builtin_states(conn, builtin)
        try:
            return roles_store.group_states(conn, group)
        except AccountingNotFound:
            raise NotFound("group", group) from None
        except ValueError as e:
            raise Invalid("group", str(e)) from None


def _builtin(group: str) -> BuiltinGroup | None:
    try:
        return BuiltinGroup(group)
    except ValueError:
        return None
