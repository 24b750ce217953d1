"""Role resolution (issue 18; SavaPage "Users", roles): the pure rule over every
combination of states, then the states stored in the user store (SQLite and PostgreSQL)."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import Engine

from ippproxy.accounting import AccountingService, AccountingSettings, users
from ippproxy.accounting.cost import CostModel, MediaPrice, Pricing
from ippproxy.accounting.errors import NotPermitted
from ippproxy.accounting.roles import (
    BuiltinGroup,
    Resolution,
    Role,
    RoleState,
    RoleStates,
    resolve,
)
from ippproxy.accounting.roles_store import (
    builtin_states,
    group_states,
    set_builtin_role,
    set_group_role,
    set_user_role,
    user_role,
    user_states,
)
from ippproxy.accounting.txn import in_transaction

E, D, I = RoleState.ENABLED, RoleState.DISABLED, RoleState.INDETERMINATE
P, C = Role.PRINT_JOB_CREATOR, Role.WEB_CASHIER

# (role, user, groups, kind group, all users, internal) -> (granted, deciding level)
TABLE = [
    (C, E, {"a": D}, D, D, False, (True, "user")),
    (C, D, {"a": E}, E, E, False, (False, "user")),
    (P, D, {}, I, I, False, (False, "user")),
    (C, I, {"a": E, "b": D}, D, D, False, (True, "group a")),     # any group enabling wins
    (C, I, {"a": D, "b": E}, D, D, True, (True, "group b")),
    (P, I, {"a": D, "b": I}, E, E, False, (False, "group a")),
    (C, I, {"a": I}, E, D, True, (True, "internal-users")),
    (C, I, {"a": I}, E, D, False, (True, "external-users")),        # the kind's own row
    (P, I, {}, D, E, False, (False, "external-users")),
    (C, I, {}, I, E, False, (True, "all-users")),
    (P, I, {}, I, D, True, (False, "all-users")),
    (C, I, {}, I, I, False, (False, "default")),                    # denied by default
    (P, I, {}, I, I, True, (True, "default")),                      # except printing
    (P, I, {"a": I, "b": I}, I, I, False, (True, "default")),
]


@pytest.mark.parametrize("row", TABLE, ids=[str(i) for i in range(len(TABLE))])
def test_resolution_table(row: tuple[object, ...]) -> None:
    role, user, groups, kind, everyone, internal, (granted, source) = row
    got = resolve(role, RoleStates(user, groups, kind, everyone),  # type: ignore[arg-type]
                  internal=internal)  # type: ignore[arg-type]
    assert got == Resolution(granted, source)


GROUP_SETS = [{}, {"a": E}, {"a": D}, {"a": I}, {"a": E, "b": D}, {"a": D, "b": D},
              {"a": I, "b": D}, {"a": I, "b": I}, {"a": E, "b": I}]


@pytest.mark.parametrize("role", list(Role))
def test_every_combination(role: Role) -> None:
    """Every state at every level, for both kinds of user: the first level that is not
    indeterminate decides; a group level decides by 'any enables' then 'any disables'."""
    seen = set()
    for user, groups, kind, everyone, internal in itertools.product(
            RoleState, GROUP_SETS, RoleState, RoleState, (True, False)):
        got = resolve(role, RoleStates(user, groups, kind, everyone), internal=internal)
        seen.add(got.source)
        if user is not I:
            assert got == Resolution(user is E, "user")
        elif E in groups.values():
            assert got.granted and got.source.startswith("group ")
        elif D in groups.values():
            assert not got.granted and got.source.startswith("group ")
        elif kind is not I:
            expect = "internal-users" if internal else "external-users"
            assert got == Resolution(kind is E, expect)
        elif everyone is not I:
            assert got == Resolution(everyone is E, "all-users")
        else:
            assert got == Resolution(role is Role.PRINT_JOB_CREATOR, "default")
    assert seen == {"user", "group a", "group b", "internal-users", "external-users",
                    "all-users", "default"}


def test_reason_names_role_and_level() -> None:
    assert Resolution(False, "group students").reason(P) == \
        "role print-job-creator denied by group students"


def _svc(engine: Engine) -> AccountingService:
    return AccountingService(engine, Pricing(default=CostModel(default=MediaPrice(10, 50))),
                             AccountingSettings(new_user_restricted=False))


def test_states_are_stored_and_resolved(engine: Engine) -> None:
    defaults = users.UserDefaults()

    def setup(c):  # type: ignore[no-untyped-def]
        users.add_group(c, "Students")
        users.add_group(c, "staff")
        alice = users.add_user(c, "alice", defaults=defaults, groups=("students", "staff"))
        bob = users.add_user(c, "bob", defaults=defaults, internal=True, password="pw-123456")
        return alice, bob
    alice, bob = in_transaction(engine, setup)

    def resolved(uid):  # type: ignore[no-untyped-def]
        return in_transaction(engine, lambda c: user_role(c, uid, C))

    assert resolved(alice) == Resolution(False, "default")
    in_transaction(engine, lambda c: set_builtin_role(c, BuiltinGroup.ALL_USERS, C, E))
    assert resolved(alice) == Resolution(True, "all-users")
    in_transaction(engine, lambda c: set_builtin_role(c, BuiltinGroup.EXTERNAL_USERS, C, D))
    assert resolved(alice) == Resolution(False, "external-users")
    assert resolved(bob) == Resolution(True, "all-users")               # internal: not him
    in_transaction(engine, lambda c: set_group_role(c, "STUDENTS", C, D))
    assert resolved(alice) == Resolution(False, "group students")
    in_transaction(engine, lambda c: set_group_role(c, "staff", C, E))
    assert resolved(alice) == Resolution(True, "group staff")
    in_transaction(engine, lambda c: set_user_role(c, alice, C, D))
    assert resolved(alice) == Resolution(False, "user")
    in_transaction(engine, lambda c: set_user_role(c, alice, C, I))       # row removed
    assert resolved(alice) == Resolution(True, "group staff")
    assert in_transaction(engine, lambda c: (user_states(c, alice), group_states(c, "staff"),
                                             builtin_states(c, BuiltinGroup.ALL_USERS))) == \
        ({}, {C: E}, {C: E})


def test_print_job_creator_denied_refuses_printing(engine: Engine) -> None:
    svc = _svc(engine)
    uid = in_transaction(engine, lambda c: users.add_user(c, "carol",
                                                          defaults=users.UserDefaults()))
    assert svc.live_groups("carol") == frozenset()
    in_transaction(engine, lambda c: set_user_role(c, uid, P, D))
    assert svc.live_groups("carol") is None
    with pytest.raises(NotPermitted, match="may not print: role print-job-creator denied by "
                                           "user"):
        svc.ensure_user("carol")
    # A user created on first print is refused too when External Users may not print,
    # and is not left behind.
    in_transaction(engine, lambda c: set_builtin_role(c, BuiltinGroup.EXTERNAL_USERS, P, D))
    with pytest.raises(NotPermitted, match="denied by external-users"):
        svc.ensure_user("newcomer")
    assert in_transaction(engine, lambda c: users.find_user(c, "newcomer")) is None
