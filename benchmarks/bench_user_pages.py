"""The user web app's reads with a big history: what ``/user/``, ``/user/jobs`` and
``/user/transactions`` ask (services.userside, services.myledger) for one user among
many, with N jobs (default 1,000,000 by 5,000 users, bench_admin's history) and a user
with ``--rows`` ledger rows among every user's, on SQLite (and PostgreSQL with
``--backend both``).

Each question is asked ``--rounds`` times and the server time printed: p50, p95, max in
ms. The goal: every read a page makes under 100 ms at p95 (a page makes four).

    .venv/bin/python benchmarks/bench_user_pages.py [--jobs 1000000] [--rows 5000]
        [--rounds 50] [--backend sqlite|postgresql|both]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_admin import USERS, history, timed
from sqlalchemy import Connection
from support.postgres import start_cluster

from ippproxy.accounting import admin as accounting_admin
from ippproxy.accounting import users
from ippproxy.accounting.txn import in_transaction
from ippproxy.db import make_engine, upgrade
from ippproxy.jobs.bulk import insert_jobs
from ippproxy.jobs.store import JobStore
from ippproxy.services.actor import Actor, Via
from ippproxy.services.myledger import MyLedger
from ippproxy.services.userside import UserSide

WHO = USERS[7]


class _Quiet:
    def job_changed(self, uuid: str) -> None: ...

    def record(self, entry: Any) -> None: ...


async def _no_pay(job: Any) -> None:
    return None


def ledger_rows(engine: Any, rows: int) -> None:
    """``rows`` adjustments on WHO's account, and as many spread over 200 other users."""
    names = [WHO, *USERS[100:300]]

    def make(conn: Connection) -> None:
        for name in names:
            users.add_user(conn, name, defaults=users.UserDefaults(balance=100_000))
        ids = {n: accounting_admin.account_of(conn, username=n)._mapping["id"] for n in names}
        for i in range(rows):
            for name in (WHO, USERS[100 + i % 200]):
                accounting_admin.adjust_balance(conn, ids[name], 1, reason=f"bench {i}",
                                                actor="bench")
    in_transaction(engine, make)


async def measure(url: str, jobs: int, rows: int, rounds: int) -> dict[str, float]:
    engine = make_engine(url)
    upgrade(engine)
    t0 = time.perf_counter()
    made = insert_jobs(engine, history(jobs))
    ledger_rows(engine, rows)
    with engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.commit()
    print(f"  made {made} jobs and {2 * rows} ledger rows in {time.perf_counter() - t0:.1f} s")
    me = Actor(WHO, Via.SESSION)
    led = MyLedger(engine, "EUR", 2)
    out: dict[str, float] = {}
    async with JobStore(engine) as store:
        side = UserSide(store, engine, _Quiet(), _Quiet(), _no_pay)
        mine = [j.uuid for j in await side.jobs(me, limit=50)]
        deep = None
        for _ in range(20):           # 20 pages of 25 back
            page = led.transactions(me, before=deep)
            deep = page.next_before
        cases: list[tuple[str, Any]] = [
            ("home: own jobs (50)", lambda: side.jobs(me, limit=50)),
            ("jobs page: own jobs (200)", lambda: side.jobs(me, limit=200)),
            ("home: accounts", lambda: asyncio.to_thread(side.accounts, me)),
            ("home: charges of 50 jobs", lambda: asyncio.to_thread(led.charged, mine)),
            ("transactions: first page", lambda: asyncio.to_thread(led.transactions, me)),
            ("transactions: page 20",
             lambda: asyncio.to_thread(led.transactions, me, before=deep)),
        ]
        for label, call in cases:
            out[label] = await timed(label, rounds, call)
    engine.dispose()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--jobs", type=int, default=1_000_000)
    ap.add_argument("--rows", type=int, default=5000)
    ap.add_argument("--rounds", type=int, default=50)
    ap.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="sqlite")
    args = ap.parse_args()
    failed = []
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory(prefix="bench-user-") as tmp:
            print(f"SQLite, {args.jobs} jobs")
            res = asyncio.run(measure(f"sqlite:///{tmp}/user.sqlite", args.jobs, args.rows,
                                      args.rounds))
            failed += [f"sqlite {k}" for k, v in res.items() if v >= 100]
    if args.backend in ("postgresql", "both"):
        cluster = start_cluster(durable=False)
        try:
            print(f"PostgreSQL, {args.jobs} jobs")
            res = asyncio.run(measure(cluster.create_database(), args.jobs, args.rows,
                                      args.rounds))
            failed += [f"postgresql {k}" for k, v in res.items() if v >= 100]
        finally:
            cluster.stop()
    print("goal (every read p95 < 100 ms):", "met" if not failed else
          "NOT met by " + ", ".join(failed))


if __name__ == "__main__":
    main()
