"""The charging lifecycle: estimate, reserve, settle, refunds, idempotency."""

from __future__ import annotations

import logging
import uuid
from fractions import Fraction

import pytest
from sqlalchemy import Engine

from ippproxy.accounting import ledger, users
from ippproxy.accounting.charges import ChargeState, Outcome
from ippproxy.accounting.cost import CostModel, JobCounts, MediaPrice, Pricing
from ippproxy.accounting.errors import (
    AccessDenied,
    CreditRefused,
    InvalidOperation,
    NotFound,
)
from ippproxy.accounting.service import AccountingService
from ippproxy.accounting.settings import AccountingSettings, Trust

PRICING = Pricing(
    models={"colour": CostModel(default=MediaPrice(Fraction(10), Fraction(50)),
                                duplex_discount=Fraction(1, 2), job_fee=Fraction(2))},
    multipliers={"staff": Fraction(0), "students": Fraction(1)},
)


def service(engine: Engine, **settings: object) -> AccountingService:
    return AccountingService(engine, PRICING, AccountingSettings(**settings))  # type: ignore[arg-type]


@pytest.fixture
def svc(engine: Engine) -> AccountingService:
    with engine.begin() as conn:
        users.add_group(conn, "staff")
        users.add_group(conn, "students", initial_balance=300)
        users.add_user(conn, "alice", defaults=users.UserDefaults("EUR", 100, True, 0),
                       groups=("students",))
        users.add_user(conn, "sam", defaults=users.UserDefaults("EUR", 0, True, 0),
                       groups=("staff",))
    return service(engine)


def balance(engine: Engine, name: str) -> int:
    with engine.begin() as conn:
        uid = users.get_user(conn, name)._mapping["id"]
        value: int = users.personal_account(conn, uid)._mapping["balance"]
        assert ledger.audit(conn) == []
        return value


def test_estimate_writes_nothing(svc: AccountingService, engine: Engine) -> None:
    est = svc.estimate("alice", "colour", JobCounts.simple(2, 1))
    assert (est.amount, est.text) == (2 + 20 + 50, "0.72 EUR")
    assert svc.estimate("sam", "colour", JobCounts.simple(2, 1)).amount == 0
    assert balance(engine, "alice") == 100


def test_reserve_settle_completed(svc: AccountingService, engine: Engine) -> None:
    job = uuid.uuid4()
    c = svc.reserve(job, username="ALICE", printer="colour", counts=JobCounts.simple(3))
    assert (c.state, c.charged, c.balance) == (ChargeState.RESERVED, 32, 68)
    done = svc.settle(job, Outcome.COMPLETED, impressions=3)
    assert (done.state, done.charged, done.balance) == (ChargeState.SETTLED, 32, 68)
    again = svc.settle(job, Outcome.COMPLETED, impressions=3)
    assert again.replayed and again.charged == 32
    assert svc.reserve(job, username="alice", printer="colour",
                       counts=JobCounts.simple(3)).replayed
    assert balance(engine, "alice") == 68
    with engine.begin() as conn:
        rows = ledger.entries(conn, job_uuid=job)
    assert [(r.kind, r.amount) for r in rows] == [("charge", -32)]


def test_job_uuid_as_text(svc: AccountingService) -> None:
    job = str(uuid.uuid4())
    svc.reserve(job, username="alice", printer="colour", counts=JobCounts.simple(1))
    assert svc.settle(job).state == ChargeState.SETTLED
    got = svc.get(job)
    assert got is not None and str(got.job_uuid) == job


def test_credit_refused_says_balance_and_cost(svc: AccountingService, engine: Engine) -> None:
    with pytest.raises(CreditRefused) as err:
        svc.reserve(uuid.uuid4(), username="alice", printer="colour",
                    counts=JobCounts.simple(0, 3))
    assert str(err.value) == "Insufficient credit: balance 1.00 EUR, job cost 1.52 EUR."
    assert (err.value.balance, err.value.cost) == (100, 152)
    assert balance(engine, "alice") == 100


def test_credit_limit_allows_overdraft(svc: AccountingService, engine: Engine) -> None:
    with engine.begin() as conn:
        uid = users.get_user(conn, "alice")._mapping["id"]
        acct = users.personal_account(conn, uid)._mapping["id"]
        conn.execute(users.ACCOUNTS.update().where(users.ACCOUNTS.c.id == acct)
                     .values(credit_limit=60))
    c = svc.reserve(uuid.uuid4(), username="alice", printer="colour",
                    counts=JobCounts.simple(0, 3))
    assert c.balance == -52
    with pytest.raises(CreditRefused, match="credit limit 0.60 EUR"):
        svc.reserve(uuid.uuid4(), username="alice", printer="colour",
                    counts=JobCounts.simple(1))


def test_unrestricted_account_may_go_negative(svc: AccountingService, engine: Engine) -> None:
    with engine.begin() as conn:
        users.set_user_property(conn, "alice", "restricted", "false")
    c = svc.reserve(uuid.uuid4(), username="alice", printer="colour",
                    counts=JobCounts.simple(0, 10))
    assert c.balance == 100 - 502


def test_cancel_before_printing_refunds_automatically(svc: AccountingService,
                                                      engine: Engine) -> None:
    job = uuid.uuid4()
    svc.reserve(job, username="alice", printer="colour", counts=JobCounts.simple(3))
    c = svc.settle(job, Outcome.CANCELED, impressions=0)
    assert (c.state, c.charged, c.balance) == (ChargeState.REFUNDED, 0, 100)
    assert svc.settle(job, Outcome.COMPLETED, impressions=3).replayed  # late duplicate
    assert balance(engine, "alice") == 100


def test_abort_after_printing_keeps_the_charge(svc: AccountingService) -> None:
    job = uuid.uuid4()
    svc.reserve(job, username="alice", printer="colour", counts=JobCounts.simple(3))
    c = svc.settle(job, Outcome.ABORTED, impressions=2)
    assert (c.state, c.charged) == (ChargeState.SETTLED, 32)
    c2 = uuid.uuid4()
    svc.reserve(c2, username="alice", printer="colour", counts=JobCounts.simple(1))
    assert svc.settle(c2, Outcome.ABORTED, impressions=None).state == ChargeState.SETTLED


@pytest.mark.parametrize(("trust", "reported", "expected"), [
    (Trust.OURS, 2, 42), (Trust.PRINTER, 2, 22), (Trust.PRINTER, 6, 62),
    (Trust.LOWER, 6, 42), (Trust.LOWER, 2, 22), (Trust.PRINTER, None, 42)])
def test_settle_trust(engine: Engine, svc: AccountingService, trust: Trust,
                      reported: int | None, expected: int,
                      caplog: pytest.LogCaptureFixture) -> None:
    s = service(engine, trust=trust)
    job = uuid.uuid4()
    with engine.begin() as conn:
        users.set_user_property(conn, "alice", "restricted", "false")
    s.reserve(job, username="alice", printer="colour", counts=JobCounts.simple(4))
    with caplog.at_level(logging.WARNING, logger="ippproxy.accounting.settlement"):
        c = s.settle(job, Outcome.COMPLETED, impressions=reported)
    assert c.charged == expected and c.balance == 100 - expected
    if reported is not None and reported != 4:
        assert "printer reported" in caplog.text
    assert balance(engine, "alice") == 100 - expected


def test_admin_refund_full_and_partial(svc: AccountingService, engine: Engine) -> None:
    job = uuid.uuid4()
    svc.reserve(job, username="alice", printer="colour", counts=JobCounts.simple(3))
    with pytest.raises(InvalidOperation):
        svc.refund(job, reason="jam", actor="root")  # not settled yet
    svc.settle(job)
    c = svc.refund(job, 10, reason="paper jam, 1 page", actor="root", request_key="t-1")
    assert (c.charged, c.refunded, c.balance) == (22, 10, 78)
    assert svc.refund(job, 10, reason="paper jam, 1 page", actor="root",
                      request_key="t-1").replayed
    with pytest.raises(InvalidOperation):
        svc.refund(job, 23, reason="too much", actor="root")
    with pytest.raises(InvalidOperation):
        svc.refund(job, reason="  ", actor="root")
    c = svc.refund(job, reason="goodwill", actor="root")
    assert (c.charged, c.refunded, c.balance) == (0, 32, 100)
    with engine.begin() as conn:
        rows = ledger.entries(conn, job_uuid=job)
    assert [(r.kind, r.amount, r.actor) for r in rows] == [
        ("charge", -32, "alice"), ("refund", 10, "root"), ("refund", 22, "root")]


def test_shared_account_charge(svc: AccountingService, engine: Engine) -> None:
    with engine.begin() as conn:
        users.add_shared_account(conn, "Dept", "D1", currency="EUR", pin="4321",
                                 restricted=True, balance=1000)
        users.grant_account(conn, "D1", group="students")
    with pytest.raises(AccessDenied):
        svc.reserve(uuid.uuid4(), username="alice", printer="colour",
                    counts=JobCounts.simple(1), account_code="D1", pin="0000")
    with pytest.raises(AccessDenied):
        svc.reserve(uuid.uuid4(), username="sam", printer="colour",
                    counts=JobCounts.simple(1), account_code="D1", pin="4321")
    with pytest.raises(NotFound):
        svc.reserve(uuid.uuid4(), username="alice", printer="colour",
                    counts=JobCounts.simple(1), account_code="nope")
    c = svc.reserve(uuid.uuid4(), username="alice", printer="colour",
                    counts=JobCounts.simple(0, 10), account_code="D1", pin="4321")
    assert c.balance == 1000 - 502
    assert balance(engine, "alice") == 100


def test_unknown_users_created_with_group_defaults_or_refused(engine: Engine,
                                                              svc: AccountingService) -> None:
    s = service(engine, new_user_group="students")
    c = s.reserve(uuid.uuid4(), username="NewKid", printer="colour", counts=JobCounts.simple(1))
    assert c.balance == 300 - 12
    strict = service(engine, create_unknown_users=False)
    with pytest.raises(NotFound):
        strict.reserve(uuid.uuid4(), username="stranger", printer="colour",
                       counts=JobCounts.simple(1))
    assert balance(engine, "newkid") == 288


def test_settle_unknown_job(svc: AccountingService) -> None:
    with pytest.raises(NotFound):
        svc.settle(uuid.uuid4())
    with pytest.raises(InvalidOperation):
        svc.settle(uuid.uuid4(), impressions=-1)


def test_free_job_cancel_writes_no_row(svc: AccountingService, engine: Engine) -> None:
    job = uuid.uuid4()
    svc.reserve(job, username="sam", printer="colour", counts=JobCounts.simple(5))
    assert svc.settle(job, Outcome.CANCELED, impressions=0).state == ChargeState.REFUNDED
    with engine.begin() as conn:
        kinds = [r.kind for r in ledger.entries(conn, job_uuid=job)]
    assert kinds == ["charge"]
