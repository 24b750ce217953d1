"""The charging path's SQL statements, counted on SQLite and PostgreSQL: the reads joined
(payer.py), no re-read of what was just written, no idempotency-key lookup where the
charge row already says the key is new (ledger.apply). Issue 12 asks the ledger to cost
at most 2 ms a job; these counts are what made that true, kept from creeping back."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from fractions import Fraction

from sqlalchemy import Engine, event, func, select

from ippproxy.accounting import users
from ippproxy.accounting.charges import ChargeState
from ippproxy.accounting.cost import CostModel, JobCounts, MediaCount, MediaPrice, Pricing
from ippproxy.accounting.models import LEDGER
from ippproxy.accounting.service import AccountingService
from ippproxy.accounting.settings import AccountingSettings, Trust

MODEL = {"p": CostModel(default=MediaPrice(Fraction(10), Fraction(10)))}
ONE_PAGE = JobCounts((MediaCount("iso_a4_210x297mm", 1, 0, 1),))


@contextmanager
def counted(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements (not BEGIN, COMMIT or SAVEPOINT) run on ``engine`` meanwhile."""
    seen: list[str] = []

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        if statement.lstrip().split(None, 1)[0].upper() in ("SELECT", "INSERT", "UPDATE",
                                                              "DELETE", "WITH"):
            seen.append(statement)
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def make(engine: Engine, multipliers: dict[str, Fraction],
         trust: Trust = Trust.OURS) -> AccountingService:
    with engine.begin() as conn:
        users.add_group(conn, "staff")
        users.add_user(conn, "alice", defaults=users.UserDefaults("EUR", 1000, True, 0),
                       groups=("staff",))
    return AccountingService(engine, Pricing(models=MODEL, multipliers=multipliers),
                             AccountingSettings(trust=trust))


def _one_debit(engine: Engine) -> int:
    """The statements saved where a debit, its ledger row and the job's charge row are one
    statement (PostgreSQL: 2), else 0."""
    return 2 * int(engine.dialect.name == "postgresql")


def test_reserve_and_settle_statements_counted(engine: Engine) -> None:
    svc = make(engine, {"staff": Fraction(1)})   # a multiplier of 1 changes no price
    job = uuid.uuid4()
    with counted(engine) as reserve:
        charge = svc.reserve(job, username="Alice", printer="p", counts=ONE_PAGE)
    # the payer (user, account locked, charge?), the charge row, the balance, the ledger
    # row; on PostgreSQL the last three are one statement (ledger.py)
    assert len(reserve) == 4 - _one_debit(engine), reserve
    assert (charge.state, charge.charged, charge.balance) == (ChargeState.RESERVED, 10, 990)
    with counted(engine) as settle:
        settled = svc.settle(job, impressions=1)
    assert len(settle) == 2, settle   # the charge with its account, its new state
    assert (settled.state, settled.charged, settled.balance) == (ChargeState.SETTLED, 10, 990)
    with counted(engine) as lookup:
        assert svc.live_groups("alice") == frozenset({"staff"})
    # the user with its groups, then the states that resolve its print-job-creator role
    # (issue 18: own, added groups, built-in kind group, All Users) in one UNION ALL
    assert len(lookup) == 2, lookup


def test_a_discounting_group_is_read_and_applied(engine: Engine) -> None:
    svc = make(engine, {"staff": Fraction(1, 2)})
    with counted(engine) as reserve:
        charge = svc.reserve(uuid.uuid4(), username="alice", printer="p", counts=ONE_PAGE)
    assert len(reserve) == 5 - _one_debit(engine), reserve
    assert (charge.charged, charge.balance) == (5, 995)


def test_a_settle_that_changes_the_price_posts_once_and_replays(engine: Engine) -> None:
    svc = make(engine, {}, Trust.PRINTER)
    job = uuid.uuid4()
    svc.reserve(job, username="alice", printer="p",
                counts=JobCounts((MediaCount("iso_a4_210x297mm", 2, 0, 2),)))
    with counted(engine) as settle:
        settled = svc.settle(job, impressions=1)   # the printer printed one of two
    # the charge, the account locked, its balance, the ledger row, the charge's state
    assert len(settle) == 5, settle
    assert (settled.charged, settled.balance) == (10, 990)
    again = svc.settle(job, impressions=1)
    assert again.replayed and again.balance == 990
    replay = svc.reserve(job, username="alice", printer="p", counts=ONE_PAGE)
    assert replay.replayed and replay.charged == 10 and replay.balance == 990
    with engine.connect() as conn:
        rows = conn.execute(select(func.count()).select_from(LEDGER)
                            .where(LEDGER.c.job_uuid == job)).scalar_one()
    assert rows == 2   # the debit and the settlement, each key once
