"""The admin side with a big job history: job list pages and the dashboard summary (and
the charts' sums) with N jobs (default 1,000,000), on SQLite and PostgreSQL.

The history is made with ``ippproxy.jobs.bulk`` (bulk inserts: 90 days of finished jobs
on 20 printers by 5,000 users, a few hundred waiting and held), then each question is
asked ``--rounds`` times through the services the pages call (``services.reports``) and
the server time is printed: p50, p95, max in ms. The goal (issue 13): the job list and
the dashboard summary under 100 ms at p95. The history is kept in ``--keep DIR`` to rerun
without rebuilding it (SQLite only).

    .venv/bin/python benchmarks/bench_admin.py [--jobs 1000000] [--rounds 50]
        [--backend sqlite|postgresql|both] [--keep DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from support.postgres import start_cluster

from ippproxy.db import make_engine, upgrade
from ippproxy.jobs.bulk import BulkJob, insert_jobs
from ippproxy.jobs.state import JobState
from ippproxy.jobs.store import JobStore
from ippproxy.services.actor import Actor
from ippproxy.services.reports import Reports

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
DAYS = 90
PRINTERS = [f"printer-{i:02d}" for i in range(20)]
USERS = [f"user{i:04d}" for i in range(5000)]
ENDED = [JobState.COMPLETED] * 92 + [JobState.CANCELED] * 5 + [JobState.ABORTED] * 3


def history(n: int, waiting: int = 300, held: int = 200) -> Iterator[BulkJob]:
    rnd = random.Random(13)
    ids = dict.fromkeys(PRINTERS, 0)
    span = DAYS * 86400
    for i in range(n):
        queue = rnd.choice(PRINTERS)
        ids[queue] += 1
        if i < waiting + held:
            state = JobState.PENDING if i < waiting else JobState.PENDING_HELD
            created = NOW - dt.timedelta(seconds=rnd.uniform(0, 3600))
            yield BulkJob(queue, ids[queue], rnd.choice(USERS), state, created,
                          impressions=rnd.randint(1, 20))
            continue
        # Older jobs spread evenly; a job's life is a few seconds.
        created = NOW - dt.timedelta(seconds=span * (n - i) / n + 5)
        imp = rnd.randint(1, 30)
        yield BulkJob(queue, ids[queue], rnd.choice(USERS), rnd.choice(ENDED), created,
                      completed_at=created + dt.timedelta(seconds=rnd.uniform(1, 5)),
                      impressions=imp, impressions_col=rnd.choice((0, 0, imp // 3, None)))


async def timed(label: str, rounds: int, call: Callable[[], Awaitable[Any]]) -> float:
    await call()                                   # warm: statement cache, page cache
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        await call()
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
    print(f"  {label:<34} p50 {statistics.median(times):7.1f}  p95 {p95:7.1f}  "
          f"max {times[-1]:7.1f} ms")
    return p95


async def measure(url: str, jobs: int, rounds: int, build: bool) -> dict[str, float]:
    engine = make_engine(url)
    upgrade(engine)
    if build:
        t0 = time.perf_counter()
        made = insert_jobs(engine, history(jobs))
        print(f"  made {made} jobs in {time.perf_counter() - t0:.1f} s")
        if engine.dialect.name == "postgresql":
            with engine.connect() as conn:
                conn.exec_driver_sql("ANALYZE jobs")
                conn.commit()
        else:
            with engine.connect() as conn:
                conn.exec_driver_sql("ANALYZE")
                conn.commit()
    admin = Actor.system("bench")
    out: dict[str, float] = {}
    async with JobStore(engine) as store:
        reports = Reports(store.reports, clock=lambda: NOW, chart_ttl=0)  # charts uncached
        first = await reports.job_page(admin, "history")
        deep = first.next
        for _ in range(200):          # 200 pages in: 10,000 jobs back
            page = await reports.job_page(admin, "history", after=deep)
            deep = page.next
        cases: list[tuple[str, Callable[[], Awaitable[Any]]]] = [
            ("job list: active", lambda: reports.job_page(admin, "active")),
            ("job list: held", lambda: reports.job_page(admin, "held")),
            ("job list: history, first page", lambda: reports.job_page(admin, "history")),
            ("job list: history, page 200",
             lambda: reports.job_page(admin, "history", after=deep)),
            ("job list: history of one user",
             lambda: reports.job_page(admin, "history", owner=USERS[7])),
            ("job list: history of one printer",
             lambda: reports.job_page(admin, "history", queue=PRINTERS[3])),
            ("dashboard summary", lambda: reports.summary(admin)),
            ("chart: pages per day (14 days)", lambda: reports.daily_pages(admin, 14)),
            ("chart: colour share (30 days)", lambda: reports.colour_share(admin, 30)),
            ("chart: top users (30 days)", lambda: reports.top_users(admin, 30)),
        ]
        for label, call in cases:
            out[label] = await timed(label, rounds, call)
    engine.dispose()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--jobs", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=50)
    ap.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    ap.add_argument("--keep", type=Path, help="SQLite: keep (and reuse) the database here")
    args = ap.parse_args()
    failed = []
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory(prefix="bench-admin-") as tmp:
            path = (args.keep or Path(tmp)) / "admin.sqlite"
            path.parent.mkdir(parents=True, exist_ok=True)
            build = not path.exists()
            print(f"SQLite, {args.jobs} jobs ({'new' if build else 'reused'}: {path})")
            res = asyncio.run(measure(f"sqlite:///{path}", args.jobs, args.rounds, build))
            failed += [f"sqlite {k}" for k, v in res.items()
                       if not k.startswith("chart") and v >= 100]
    if args.backend in ("postgresql", "both"):
        cluster = start_cluster(durable=False)
        try:
            print(f"PostgreSQL, {args.jobs} jobs")
            res = asyncio.run(measure(cluster.create_database(), args.jobs, args.rounds, True))
            failed += [f"postgresql {k}" for k, v in res.items()
                       if not k.startswith("chart") and v >= 100]
        finally:
            cluster.stop()
    print("goal (job list, summary: p95 < 100 ms):", "met" if not failed else
          "NOT met by " + ", ".join(failed))


if __name__ == "__main__":
    main()
