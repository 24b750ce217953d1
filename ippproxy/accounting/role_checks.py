"""Where the roles act (issue 18): whether a user, by name, holds a role now, resolved
through the user's own state, groups and the built-in groups (``roles.resolve``).

* ``may_approve``: release-approver, who approves jobs on every approval queue beside
  the approvers a queue names (for the approval queues);
* ``may_delegate`` / ``is_delegator``: print-delegate may print on behalf of a user with
  print-delegator, charged to that user's personal account (``available``, the charge);
* the web cashier checks web-cashier (``services.cashier``).

An unknown, deleted or disabled user holds no role. Connection-level; one statement per
check (``roles_store.states_for``)."""

from __future__ import annotations

import uuid

from sqlalchemy import Connection

from ippproxy.accounting import roles_store
from ippproxy.accounting.roles import Role
from ippproxy.accounting.users import find_user


def has_role(conn: Connection, username: str, role: Role) -> bool:
    try:
        row = find_user(conn, username)
    except ValueError:
        return False
    if row is None or row._mapping["disabled"]:
        return False
    return roles_store.user_role(conn, uuid.UUID(str(row._mapping["id"])), role).granted


def may_approve(conn: Connection, username: str) -> bool:
    return has_role(conn, username, Role.RELEASE_APPROVER)


def may_delegate(conn: Connection, username: str) -> bool:
    return has_role(conn, username, Role.PRINT_DELEGATE)


def is_delegator(conn: Connection, username: str) -> bool:
    return has_role(conn, username, Role.PRINT_DELEGATOR)
