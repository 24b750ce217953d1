"""SQLite group commit (accounting/groupcommit.py): units that arrive together share one
transaction, each fails alone, and the outcome is that of the units run one by one."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, func, select

from ippproxy.accounting import AccountingService, CreditRefused, JobCounts, MediaCount, Pricing
from ippproxy.accounting.cost import CostModel, MediaPrice
from ippproxy.accounting.groupcommit import group_commit
from ippproxy.accounting.ledger import audit
from ippproxy.accounting.models import LEDGER
from ippproxy.accounting.settings import AccountingSettings
from ippproxy.accounting.txn import in_transaction
from ippproxy.db import make_engine, upgrade

THREADS = 8
JOBS = 24   # per thread


@pytest.fixture
def sqlite(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'g.db'}")
    upgrade(engine)
    return engine


def _service(engine: Engine, balance: int) -> AccountingService:
    model = CostModel(default=MediaPrice(10, 50))
    return AccountingService(engine, Pricing(models={"p": model}, default=model),
                             AccountingSettings(new_user_balance=balance))


def _run(threads: int, target: object) -> None:
    ts = [threading.Thread(target=target, args=(i,)) for i in range(threads)]  # type: ignore[arg-type]
    for t in ts:
        t.start()
    for t in ts:
        t.join()


def test_concurrent_charges_share_commits_and_fail_alone(sqlite: Engine) -> None:
    """Each user can pay for exactly JOBS // 2 one-page jobs: the other half is refused
    with CreditRefused, which rolls back that unit only; the batches hold several units."""
    accounting = _service(sqlite, balance=10 * JOBS // 2)
    counts = JobCounts((MediaCount("iso_a4_210x297mm", 1, 0, 1),))
    group = group_commit(sqlite)
    assert group is not None
    refused = [0] * THREADS
    charged: list[list[uuid.UUID]] = [[] for _ in range(THREADS)]

    def client(i: int) -> None:
        for _ in range(JOBS):
            job = uuid.uuid4()
            try:
                accounting.reserve(job, username=f"user{i}", printer="p", counts=counts)
                charged[i].append(job)
            except CreditRefused:
                refused[i] += 1
        for job in charged[i]:
            accounting.settle(job, impressions=1)

    _run(THREADS, client)
    assert refused == [JOBS // 2] * THREADS
    assert [len(c) for c in charged] == [JOBS // 2] * THREADS
    with sqlite.connect() as conn:
        assert audit(conn) == []
        # an initial credit per user and one charge per paid job; nothing of a refusal
        assert conn.execute(select(func.count()).select_from(LEDGER)).scalar_one() \
            == THREADS * (1 + JOBS // 2)
    assert group.units >= THREADS * (JOBS + JOBS // 2)   # every reserve and settle
    assert group.batches < group.units   # some transactions held several units


def test_failed_unit_rolls_back_alone(sqlite: Engine) -> None:
    """A unit that raises after writing leaves nothing; the units beside it are kept."""
    accounting = _service(sqlite, balance=1000)
    names = [f"u{i}" for i in range(THREADS)]
    start = threading.Barrier(THREADS)

    def work(i: int) -> None:
        start.wait()

        def unit(conn: Connection) -> None:
            accounting._user(conn, names[i])   # creates the user and its opening credit
            if i % 2:
                raise ValueError(f"unit {i} fails after writing")

        if i % 2:
            with pytest.raises(ValueError, match=f"unit {i}"):
                in_transaction(sqlite, unit)
        else:
            in_transaction(sqlite, unit)

    _run(THREADS, work)
    with sqlite.connect() as conn:
        credits = conn.execute(select(func.count()).select_from(LEDGER)).scalar_one()
    assert credits == THREADS // 2


def test_not_for_postgresql_nor_nested(sqlite: Engine) -> None:
    """Only SQLite groups; a transaction started inside a unit runs on its own."""
    seen: list[object] = []

    def unit(conn: Connection) -> None:
        seen.append(group_commit(sqlite))

    in_transaction(sqlite, unit)
    assert seen == [None]
