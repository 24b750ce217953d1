"""The payers of a batch of reservations read in one statement (PostgreSQL).

Intake's reservations run one after another in a batch of the job store's writer, where
on PostgreSQL every statement is a round trip: ``AccountingService.read_ahead`` reads
the payers of the batch's personal-account charges in one (``payer.find_payers``), and
each reservation then needs only its debit's statement. What was read ahead serves a
unit's next call only; a shared account, a user created on print, a job already charged
and a unit run again read for themselves, as before."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, event, select
from support.loadgen import PRICE, PRICING

from ippproxy.accounting import ledger, users
from ippproxy.accounting.charges import ChargeState
from ippproxy.accounting.cost import JobCounts
from ippproxy.accounting.models import ACCOUNTS
from ippproxy.accounting.payer import find_payer, find_payers
from ippproxy.accounting.service import AccountingService, ReserveUnit, read_payers_ahead
from ippproxy.accounting.settings import AccountingSettings
from ippproxy.db import make_engine, upgrade

ONE = JobCounts.simple(1)


@pytest.fixture
def pg(pg_url: str) -> Iterator[Engine]:
    engine = make_engine(pg_url)
    upgrade(engine)
    try:
        yield engine
    finally:
        engine.dispose()


def _service(engine: Engine) -> AccountingService:
    with engine.begin() as conn:
        for name in ("alice", "bob"):
            users.add_user(conn, name, defaults=users.UserDefaults("EUR", 10 * PRICE, True, 0))
        users.add_shared_account(conn, "Lab", "LAB", currency="EUR", restricted=True,
                                 balance=10 * PRICE)
        users.grant_account(conn, "LAB", user="alice")
    return AccountingService(engine, PRICING, AccountingSettings(new_user_balance=10 * PRICE))


def _statements(engine: Engine) -> tuple[list[str], Any]:
    seen: list[str] = []

    def record(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", record)
    return seen, record


def _balance(engine: Engine, name: str) -> int:
    with engine.begin() as conn:
        assert ledger.audit(conn) == []
        uid = users.get_user(conn, name)._mapping["id"]
        account = users.personal_account(conn, uid)._mapping["id"]
        return int(conn.execute(select(ACCOUNTS.c.balance)
                                .where(ACCOUNTS.c.id == account)).scalar_one())


def test_a_batch_of_charges_reads_its_payers_in_one_statement(pg: Engine) -> None:
    svc = _service(pg)
    assert svc.read_ahead is read_payers_ahead
    units = [svc.reservation(uuid.uuid4(), username=n, printer="p1", counts=ONE)
             for n in ("alice", "Bob", "alice")]   # names as printed: canonical_name
    seen, record = _statements(pg)
    try:
        with pg.begin() as conn:
            read_payers_ahead(conn, units)
            charges = [u(conn) for u in units]
    finally:
        event.remove(pg, "before_cursor_execute", record)
    # one read for the three, then one statement a charge (ledger.debit)
    assert len(seen) == 4 and "unnest" in seen[0], seen
    assert all(s.startswith("WITH debited AS") for s in seen[1:]), seen
    assert [(c.state, c.charged, c.replayed) for c in charges] == [
        (ChargeState.RESERVED, PRICE, False)] * 3
    assert (_balance(pg, "alice"), _balance(pg, "bob")) == (8 * PRICE, 9 * PRICE)


def test_what_the_read_ahead_finds_is_what_each_would_find_alone(pg: Engine) -> None:
    """Known users, an unknown one, a deleted one, a job already charged: the same answers
    as find_payer, in the order asked."""
    svc = _service(pg)
    charged = uuid.uuid4()
    svc.reserve(charged, username="bob", printer="p1", counts=ONE)
    with pg.begin() as conn:
        users.add_user(conn, "gone", defaults=users.UserDefaults("EUR", 0, True, 0))
        users.delete_user(conn, "gone")
    wanted = [("alice", uuid.uuid4()), ("nobody", uuid.uuid4()), ("BOB", charged),
              ("gone", uuid.uuid4()), ("alice", uuid.uuid4())]
    with pg.begin() as conn:
        together = find_payers(conn, wanted)
        alone = [find_payer(conn, n, j) for n, j in wanted]
    assert together == alone
    assert [p is not None and p.charged for p in together] == [False, False, True, False,
                                                                False]
    assert together[1] is None and together[3] is None


def test_the_others_read_for_themselves_and_a_read_serves_one_call(pg: Engine) -> None:
    """A shared account, a user created on print and a job charged before: each takes its
    own way and is charged (or replayed) once; a unit run again reads again."""
    svc = _service(pg)
    before = uuid.uuid4()
    svc.reserve(before, username="bob", printer="p1", counts=ONE)
    units = [svc.reservation(uuid.uuid4(), username="alice", printer="p1", counts=ONE,
                             account_code="LAB"),
             svc.reservation(uuid.uuid4(), username="carol", printer="p1", counts=ONE),
             svc.reservation(before, username="bob", printer="p1", counts=ONE),
             svc.reservation(uuid.uuid4(), username="alice", printer="p1", counts=ONE)]
    with pg.begin() as conn:
        read_payers_ahead(conn, [*units, lambda c: None])   # not a reservation: left alone
        out = [u(conn) for u in units]
    assert [(c.charged, c.replayed) for c in out] == [(PRICE, False), (PRICE, False),
                                                      (PRICE, True), (PRICE, False)]
    assert (_balance(pg, "alice"), _balance(pg, "bob"), _balance(pg, "carol")) == (
        9 * PRICE, 9 * PRICE, 9 * PRICE)
    last = units[-1]
    assert isinstance(last, ReserveUnit)
    seen, record = _statements(pg)
    try:
        with pg.begin() as conn:
            again = last(conn)      # run again (a retry): its own read, then a replay
    finally:
        event.remove(pg, "before_cursor_execute", record)
    assert again.replayed and again.charged == PRICE and _balance(pg, "alice") == 9 * PRICE
    assert seen and "unnest" not in seen[0] and "acct_users" in seen[0], seen


def test_a_payer_read_in_another_transaction_is_not_used(pg: Engine) -> None:
    """Read ahead in a batch that failed before the unit ran (its transaction rolled
    back), then run alone in a transaction of its own: it reads its payer again."""
    svc = _service(pg)
    unit = svc.reservation(uuid.uuid4(), username="alice", printer="p1", counts=ONE)
    with pg.connect() as conn:
        with conn.begin():
            read_payers_ahead(conn, [unit])
            conn.rollback()
        seen, record = _statements(pg)
        try:
            with conn.begin():
                charge = unit(conn)
        finally:
            event.remove(pg, "before_cursor_execute", record)
    assert charge.charged == PRICE and not charge.replayed
    assert len(seen) == 2 and "acct_users" in seen[0] and "unnest" not in seen[0], seen


def test_sqlite_reads_nothing_ahead(tmp_path: Any) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'a.db'}")
    upgrade(engine)
    try:
        assert AccountingService(engine, PRICING, AccountingSettings()).read_ahead is None
    finally:
        engine.dispose()
