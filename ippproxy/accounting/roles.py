"""User roles, tri-state per user and per group, and how a user's role is resolved.

Theory of operation (SavaPage admin manual, "Users", roles; issue 18)
---------------------------------------------------------------------
A role (:class:`Role`) has a state per user and per group: enabled, disabled or
indeterminate (no row). A user's role is resolved down a chain; the first level that is
not indeterminate decides:

1. the user's own state;
2. the groups the user was added to: granted if *any* enables it, denied if none enables
   and at least one disables it;
3. the built-in group of the user's kind: Internal Users or External Users;
4. the built-in All Users group.

Indeterminate everywhere means denied, except ``print-job-creator``, which is granted
when it is indeterminate at All Users (everyone may print unless told otherwise). A
group's own state is never resolved through other groups. This module does no I/O:
``roles_store`` reads the states and calls :func:`resolve`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass


class Role(enum.StrEnum):
    PRINT_JOB_CREATOR = "print-job-creator"
    PRINT_DELEGATE = "print-delegate"
    PRINT_DELEGATOR = "print-delegator"
    RELEASE_APPROVER = "release-approver"
    WEB_CASHIER = "web-cashier"


class RoleState(enum.StrEnum):
    ENABLED = "enabled"
    DISABLED = "disabled"
    INDETERMINATE = "indeterminate"


class BuiltinGroup(enum.StrEnum):
    INTERNAL_USERS = "internal-users"
    EXTERNAL_USERS = "external-users"
    ALL_USERS = "all-users"


#: The roles granted when indeterminate at All Users.
GRANTED_BY_DEFAULT = frozenset({Role.PRINT_JOB_CREATOR})


@dataclass(frozen=True)
class RoleStates:
    """Every state that can decide one role of one user."""

    user: RoleState = RoleState.INDETERMINATE
    groups: Mapping[str, RoleState] | None = None  # group name -> state
    kind_group: RoleState = RoleState.INDETERMINATE  # Internal or External Users
    all_users: RoleState = RoleState.INDETERMINATE


@dataclass(frozen=True)
class Resolution:
    granted: bool
    source: str  # which level decided: "user", "group <name>", a BuiltinGroup, "default"

    def reason(self, role: Role) -> str:
        """A sentence for a status-message."""
        verdict = "granted" if self.granted else "denied"
        return f"role {role.value} {verdict} by {self.source}"


def resolve(role: Role, states: RoleStates, *, internal: bool) -> Resolution:
    if states.user is not RoleState.INDETERMINATE:
        return Resolution(states.user is RoleState.ENABLED, "user")
    groups = states.groups or {}
    enabling = sorted(g for g, s in groups.items() if s is RoleState.ENABLED)
    if enabling:
        return Resolution(True, f"group {enabling[0]}")
    disabling = sorted(g for g, s in groups.items() if s is RoleState.DISABLED)
    if disabling:
        return Resolution(False, f"group {disabling[0]}")
    kind = BuiltinGroup.INTERNAL_USERS if internal else BuiltinGroup.EXTERNAL_USERS
    if states.kind_group is not RoleState.INDETERMINATE:
        return Resolution(states.kind_group is RoleState.ENABLED, kind.value)
    if states.all_users is not RoleState.INDETERMINATE:
        return Resolution(states.all_users is RoleState.ENABLED, BuiltinGroup.ALL_USERS.value)
    return Resolution(role in GRANTED_BY_DEFAULT, "default")
