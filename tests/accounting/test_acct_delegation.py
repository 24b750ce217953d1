"""Delegated print and the roles that act (issue 18): a print-delegate is offered the
personal accounts of print-delegators and is charged to them with ``delegator:<name>``;
without either role (resolved through groups and built-in groups) the charge is refused
and nothing is written; release-approver through ``may_approve``. SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from fractions import Fraction

import pytest
from sqlalchemy import Engine

from ippproxy.accounting import ledger, roles_store, users
from ippproxy.accounting.available import usable_accounts
from ippproxy.accounting.cost import CostModel, JobCounts, MediaPrice, Pricing
from ippproxy.accounting.errors import AccessDenied, InvalidOperation, NotFound
from ippproxy.accounting.role_checks import may_approve
from ippproxy.accounting.roles import BuiltinGroup, Role, RoleState
from ippproxy.accounting.service import AccountingService
from ippproxy.accounting.settings import AccountingSettings
from ippproxy.services.auditsink import LogAudit
from ippproxy.services.user_roles import UserRoles

PRICING = Pricing(models={"office": CostModel(default=MediaPrice(Fraction(10), Fraction(50)))},
                  multipliers={})


def _balance(engine: Engine, name: str) -> int:
    with engine.begin() as conn:
        uid = users.get_user(conn, name)._mapping["id"]
        return int(users.personal_account(conn, uid)._mapping["balance"])


def _uid(engine: Engine, name: str) -> uuid.UUID:
    with engine.begin() as conn:
        return uuid.UUID(str(users.get_user(conn, name)._mapping["id"]))


@pytest.fixture
def svc(engine: Engine) -> AccountingService:
    with engine.begin() as conn:
        users.add_group(conn, "assistants")
        users.add_group(conn, "bosses")
        for name, groups in (("ann", ("assistants",)), ("boris", ("bosses",)),
                             ("bella", ("bosses",)), ("carl", ())):
            users.add_user(conn, name, defaults=users.UserDefaults("EUR", 1000, True, 0),
                           groups=groups)
        roles_store.set_group_role(conn, "assistants", Role.PRINT_DELEGATE, RoleState.ENABLED)
        roles_store.set_group_role(conn, "bosses", Role.PRINT_DELEGATOR, RoleState.ENABLED)
        # bella's own state wins over her group's: not printed for
        bella = users.get_user(conn, "bella")._mapping["id"]
        roles_store.set_user_role(conn, bella, Role.PRINT_DELEGATOR, RoleState.DISABLED)
    return AccountingService(engine, PRICING, AccountingSettings())


def test_a_delegate_is_offered_and_charged_to_a_delegators_account(
        engine: Engine, svc: AccountingService) -> None:
    with engine.connect() as conn:
        offered = [a.code for a in usable_accounts(conn, "ann")]
        assert offered == [None, "delegator:boris"]            # not bella, not herself
        assert [a.code for a in usable_accounts(conn, "carl")] == [None]   # no delegate
    job = uuid.uuid4()
    c = svc.reserve(job, username="ann", printer="office", counts=JobCounts.simple(3),
                    account_code="delegator:Boris")
    assert (c.charged, _balance(engine, "boris"), _balance(engine, "ann")) == (30, 970, 1000)
    again = svc.reserve(job, username="ann", printer="office", counts=JobCounts.simple(3),
                        account_code="delegator:boris")
    assert again.charged == 30 and _balance(engine, "boris") == 970      # idempotent
    with engine.connect() as conn:
        rows = ledger.entries(conn, job_uuid=job)
    assert [(r.amount, r.actor) for r in rows] == [(-30, "ann")]


@pytest.mark.parametrize(("user", "code", "error"), [
    ("carl", "delegator:boris", AccessDenied),     # carl is no delegate
    ("ann", "delegator:bella", AccessDenied),      # bella disabled her delegator role
    ("ann", "delegator:carl", AccessDenied),       # carl is no delegator
    ("ann", "delegator:nobody", AccessDenied),     # no such user holds no role
    ("ann", "delegator:ann", InvalidOperation),    # herself: her own account, no code
    ("ann", "delegator:", NotFound),
])
def test_without_both_roles_nothing_is_charged(engine: Engine, svc: AccountingService,
                                               user: str, code: str,
                                               error: type[Exception]) -> None:
    before = {n: _balance(engine, n) for n in ("ann", "boris", "bella", "carl")}
    with pytest.raises(error):
        svc.reserve(uuid.uuid4(), username=user, printer="office",
                    counts=JobCounts.simple(1), account_code=code)
    assert {n: _balance(engine, n) for n in before} == before


def test_roles_taken_away_apply_at_once(engine: Engine, svc: AccountingService) -> None:
    with engine.begin() as conn:
        roles_store.set_group_role(conn, "assistants", Role.PRINT_DELEGATE,
                                   RoleState.INDETERMINATE)
    with pytest.raises(AccessDenied):
        svc.reserve(uuid.uuid4(), username="ann", printer="office",
                    counts=JobCounts.simple(1), account_code="delegator:boris")
    with engine.begin() as conn:   # granted to every external user by the built-in group
        roles_store.set_builtin_role(conn, BuiltinGroup.EXTERNAL_USERS, Role.PRINT_DELEGATE,
                                     RoleState.ENABLED)
        roles_store.set_builtin_role(conn, BuiltinGroup.ALL_USERS, Role.PRINT_DELEGATOR,
                                     RoleState.ENABLED)
        offered = [a.code for a in usable_accounts(conn, "carl")]
    assert offered == [None, "delegator:ann", "delegator:boris"]  # bella: her own "no"


def test_may_approve_resolves_release_approver(engine: Engine, svc: AccountingService) -> None:
    roles = UserRoles(engine, LogAudit())
    assert not roles.may_approve("boris") and not roles.may_approve("nobody")
    with engine.begin() as conn:
        roles_store.set_group_role(conn, "bosses", Role.RELEASE_APPROVER, RoleState.ENABLED)
    assert roles.may_approve("BORIS") and roles.may_approve("bella")
    with engine.begin() as conn:
        users.set_user_property(conn, "boris", "disabled", "true")
        assert not may_approve(conn, "boris")                    # disabled: no role
    assert not roles.may_approve("ann")
