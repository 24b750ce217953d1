"""A job's charge at intake locks its account for one statement (ledger.debit).

The reservation debits the account with an ``UPDATE ... RETURNING`` whose WHERE holds the
credit check, with the job's charge row (on SQLite before it; on PostgreSQL in the same
statement, like the ledger row; its foreign key takes a KEY SHARE lock on the account):
the lock is taken there and held to COMMIT only. Before, the
account was read ``FOR UPDATE`` first and held across the update and both inserts, so a
shared account many print to at once took one charge per four round trips and a COMMIT.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, event, func, select
from sqlalchemy.exc import IntegrityError
from support.loadgen import PRICE, PRICING
from support.postgres import pg_url, postgres_cluster  # noqa: F401

from ippproxy.accounting import charges, ledger, users
from ippproxy.accounting.charges import add_reserved, reserved_row
from ippproxy.accounting.cost import JobCounts
from ippproxy.accounting.errors import CreditRefused, InvalidOperation, NotFound
from ippproxy.accounting.ledger import Kind
from ippproxy.accounting.models import ACCOUNTS, CHARGES, LEDGER
from ippproxy.accounting.money import MAX_AMOUNT
from ippproxy.accounting.service import AccountingService
from ippproxy.accounting.settings import AccountingSettings
from ippproxy.db import make_engine, upgrade
from ippproxy.db.prepared import Prepared


@pytest.fixture
def svc(engine: Engine) -> AccountingService:
    return _service(engine)


def _service(engine: Engine) -> AccountingService:
    with engine.begin() as conn:
        users.add_user(conn, "alice", defaults=users.UserDefaults("EUR", 10 * PRICE, True, 0))
        users.add_shared_account(conn, "Lab", "LAB", currency="EUR", restricted=True,
                                 balance=10 * PRICE)
        users.grant_account(conn, "LAB", user="alice")
    return AccountingService(engine, PRICING, AccountingSettings())


def _account(engine: Engine, name: str = "alice") -> uuid.UUID:
    with engine.begin() as conn:
        uid = users.get_user(conn, name)._mapping["id"]
        return uuid.UUID(str(users.personal_account(conn, uid)._mapping["id"]))


def _balance(engine: Engine, account: uuid.UUID) -> int:
    with engine.begin() as conn:
        assert ledger.audit(conn) == []
        return int(conn.execute(select(ACCOUNTS.c.balance)
                                .where(ACCOUNTS.c.id == account)).scalar_one())


@pytest.fixture
def statements(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


@pytest.mark.parametrize("account_code", [None, "LAB"], ids=["personal", "shared"])
def test_the_charge_row_goes_with_the_debit_and_the_account_is_locked_by_it_alone(
        svc: AccountingService, statements: list[str], account_code: str | None) -> None:
    svc.reserve(uuid.uuid4(), username="alice", printer="p1", counts=JobCounts.simple(1),
                account_code=account_code)
    assert not [s for s in statements if "FOR UPDATE" in s or "FOR NO KEY UPDATE" in s]
    charge = next(i for i, s in enumerate(statements) if "INSERT INTO acct_job_charges" in s)
    debits = [i for i, s in enumerate(statements) if "UPDATE acct_accounts" in s]
    posting = next(i for i, s in enumerate(statements) if "INSERT INTO acct_ledger" in s)
    assert len(debits) == 1
    assert "credit_limit" in statements[debits[0]] and "RETURNING" in statements[debits[0]]
    if svc.engine.dialect.name == "postgresql":
        # One statement, one round trip: the ledger row and the charge row come from the
        # UPDATE's RETURNING.
        assert charge == debits[0] == posting
        assert statements[posting].startswith("WITH debited AS")
    else:   # the charge row first (its UNIQUE job key), then the debit, then the row
        assert charge < debits[0] < posting
        assert statements[posting].startswith("INSERT INTO acct_ledger")


def _charge(engine: Engine, job: uuid.UUID) -> tuple[int, ...]:
    """The job's charge rows and ledger rows, counted."""
    with engine.begin() as conn:
        return tuple(int(conn.execute(select(func.count()).select_from(t)
                                      .where(t.c.job_uuid == job)).scalar_one())
                     for t in (CHARGES, LEDGER))


def test_a_refused_charge_writes_no_charge_row_and_says_why(
        svc: AccountingService, engine: Engine) -> None:
    job = uuid.uuid4()
    with pytest.raises(CreditRefused, match="Insufficient credit"):
        svc.reserve(job, username="alice", printer="p1", counts=JobCounts.simple(11))
    assert _charge(engine, job) == (0, 0)
    assert _balance(engine, _account(engine)) == 10 * PRICE


@pytest.mark.parametrize("enough", [True, False], ids=["debited", "refused"])
def test_a_charge_of_a_job_charged_meanwhile_fails_on_its_key_not_on_the_credit(
        svc: AccountingService, engine: Engine, enough: bool) -> None:
    """The job was charged by another transaction that committed after this one read
    that it had no charge (two reservations of one job at once): whether the balance
    would pay again or not, this debit fails on the charge row's UNIQUE key (and the
    ledger's own transaction replays the charge: txn.py), never as a refusal of credit;
    nothing is written twice."""
    account = _account(engine)
    job = uuid.uuid4()
    first = svc.reserve(job, username="alice", printer="p1",
                        counts=JobCounts.simple(1 if enough else 10))
    assert first.balance == (9 if enough else 0) * PRICE
    with engine.begin() as conn:
        uid = users.get_user(conn, "alice")._mapping["id"]
    with pytest.raises(IntegrityError), engine.begin() as conn:
        ledger.debit(conn, account, -PRICE, kind=Kind.CHARGE, reason="r", actor="alice",
                     key=f"charge:{job}", job_uuid=job, beside=reserved_row(
                         job, account, uid, "p1", PRICE, 0, 1, ""))
    assert _charge(engine, job) == (1, 1)
    assert _balance(engine, account) == first.balance
    again = svc.reserve(job, username="alice", printer="p1", counts=JobCounts.simple(1))
    assert again.replayed and again.balance == first.balance


def test_a_charge_row_of_another_job_in_flight_does_not_block_the_debit(
        pg_url: str) -> None:  # noqa: F811
    """PostgreSQL (SQLite has one writer, no row locks): another transaction has written
    its charge row on the account (a KEY SHARE lock through its foreign key) and not
    committed, and this job's charge goes through. A ``SELECT ... FOR UPDATE`` of the
    account waited for it (and two such charges deadlocked)."""
    engine = make_engine(pg_url)
    upgrade(engine)
    try:
        svc = _service(engine)
        account = _account(engine)
        done: list[object] = []
        with engine.connect() as other, other.begin():
            uid = users.get_user(other, "alice")._mapping["id"]
            add_reserved(other, uuid.uuid4(), account, uid, "p1", PRICE, 0, 1, "")
            t = threading.Thread(target=lambda: done.append(svc.reserve(
                uuid.uuid4(), username="alice", printer="p1", counts=JobCounts.simple(1))))
            t.start()
            t.join(timeout=10)
            assert done, "the debit waited for another job's charge row"
        assert _balance(engine, account) == 9 * PRICE
    finally:
        engine.dispose()


def test_refusals_say_what_the_balance_read_after_them_says(
        svc: AccountingService, engine: Engine) -> None:
    account = _account(engine)
    with engine.begin() as conn:
        with pytest.raises(CreditRefused) as refused:
            ledger.debit(conn, account, -11 * PRICE, kind=Kind.CHARGE, reason="r",
                         actor="alice", key="k1")
        assert (refused.value.balance, refused.value.cost) == (10 * PRICE, 11 * PRICE)
        assert str(refused.value) == "Insufficient credit: balance 1.00 EUR, job cost 1.10 EUR."
        with pytest.raises(InvalidOperation, match="beyond the maximum"):
            ledger.debit(conn, account, -(MAX_AMOUNT + 1), kind=Kind.CHARGE, reason="r",
                         actor="alice", key="k2")
        with pytest.raises(NotFound):
            ledger.debit(conn, uuid.uuid4(), -1, kind=Kind.CHARGE, reason="r", actor="a",
                         key="k3")
        with pytest.raises(InvalidOperation, match="negative"):
            ledger.debit(conn, account, 1, kind=Kind.CHARGE, reason="r", actor="a", key="k4")
        p = ledger.debit(conn, account, -10 * PRICE, kind=Kind.CHARGE, reason="r",
                         actor="alice", key="k5")
        assert (p.amount, p.balance_after) == (-10 * PRICE, 0)
    assert _balance(engine, account) == 0


def _short(monkeypatch: pytest.MonkeyPatch, stmt: Prepared, misses: int) -> list[int]:
    """``stmt`` (the debit's) finds no row its first ``misses`` times, as if the balance
    were short then; the list of its calls."""
    real = stmt.first
    calls: list[int] = []

    def short(conn: Connection, params: Any) -> Any:
        calls.append(1)
        return None if len(calls) <= misses else real(conn, params)

    monkeypatch.setattr(stmt, "first", short)
    return calls


@pytest.mark.parametrize("misses", [1, 3], ids=["read-again", "locked-read"])
def test_a_deposit_between_the_refusal_and_its_read_charges_again(
        svc: AccountingService, engine: Engine, monkeypatch: pytest.MonkeyPatch,
        misses: int) -> None:
    """The UPDATE found the balance short, and the read after it finds it enough (a
    deposit committed between them): the debit is tried again; from the third read on
    the row is read under its lock, so the next try sees that balance."""
    account = _account(engine)
    calls = _short(monkeypatch, ledger._DEBIT_POSTED if engine.dialect.name == "postgresql"
                   else ledger._DEBIT, misses)
    with engine.begin() as conn:
        p = ledger.debit(conn, account, -PRICE, kind=Kind.CHARGE, reason="r", actor="a",
                         key="k")
    assert len(calls) == misses + 1 and p.balance_after == 9 * PRICE
    assert _balance(engine, account) == 9 * PRICE


@pytest.mark.parametrize("misses", [1, 3], ids=["read-again", "locked-read"])
def test_a_deposit_between_the_refusal_and_its_read_writes_the_charge_row_once(
        svc: AccountingService, engine: Engine, monkeypatch: pytest.MonkeyPatch,
        misses: int) -> None:
    """The same race in a reservation: on PostgreSQL the refused statement held the
    charge row too, which is then written alone, and the debit tried again without it."""
    calls = _short(monkeypatch, charges._INSERT_DEBITED
                   if engine.dialect.name == "postgresql" else ledger._DEBIT, misses)
    job = uuid.uuid4()
    charge = svc.reserve(job, username="alice", printer="p1", counts=JobCounts.simple(1))
    assert charge.balance == 9 * PRICE
    assert len(calls) == (1 if engine.dialect.name == "postgresql" else misses + 1)
    assert _charge(engine, job) == (1, 1)
    assert _balance(engine, _account(engine)) == 9 * PRICE
