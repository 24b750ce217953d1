"""The admin's user list with N users (default 100,000) and a job history, on SQLite and
PostgreSQL: pages of the list filtered and sorted as the page and ``GET /api/v1/users``
ask for them, each with its users' pagometers; and the whole list downloaded as PDF and
CSV, with the PDF's time and the peak memory (RSS) of a process that only makes it.

Users are bulk-inserted through the accounting package (``accounting.bulk``: 5 % internal,
1 % admins, 2 % disabled, 3 % deleted, in 200 groups), jobs through the job store's
(``jobs.bulk``: finished, canceled, aborted and held jobs of those users). Each question
is asked ``--rounds`` times through the service the page calls (``services.user_list``);
the server time is printed: p50, p95, max in ms. The goals (issue 18): p95 < 100 ms for
the list, filtered and paged; the PDF of 100,000 users in < 200 MB RSS.

    .venv/bin/python benchmarks/bench_users.py [--users 100000] [--jobs 300000]
        [--rounds 30] [--backend sqlite|postgresql|both]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import resource
import statistics
import subprocess
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

from ippproxy.accounting.bulk import BulkUser, insert_users
from ippproxy.db import make_engine, upgrade
from ippproxy.jobs.bulk import BulkJob, insert_jobs
from ippproxy.jobs.state import JobState
from ippproxy.jobs.store import JobStore
from ippproxy.services.actor import Actor
from ippproxy.services.auditsink import LogAudit
from ippproxy.services.user_export import csv_line, write_pdf
from ippproxy.services.user_list import UserList, make_filter

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
FIRST = ("jason", "sonja", "maria", "peter", "anna", "li", "mohamed", "olga", "tomas",
         "fatima", "jan", "sven", "aiko", "carlos", "emma", "noah", "zoe", "ravi")
DOMAINS = ("example.org", "uni.example", "staff.example.net")
ENDED = [JobState.COMPLETED] * 90 + [JobState.CANCELED] * 6 + [JobState.ABORTED] * 4


def username(i: int) -> str:
    return f"{FIRST[i % len(FIRST)]}{i:06d}"


def people(n: int) -> Iterator[BulkUser]:
    rnd = random.Random(18)
    for i in range(n):
        name = username(i)
        r = rnd.random()
        yield BulkUser(name, email=f"{name}@{DOMAINS[i % 3]}" if i % 10 else None,
                       full_name=f"{name.title()} Person", internal=r < 0.05,
                       admin=0.05 <= r < 0.06, disabled=0.06 <= r < 0.08,
                       deleted=0.08 <= r < 0.11, balance=rnd.randint(0, 5000),
                       groups=tuple({f"group-{rnd.randrange(200):03d}"
                                     for _ in range(rnd.randint(1, 2))}),
                       created_at=NOW - dt.timedelta(days=400))


def history(jobs: int, users: int) -> Iterator[BulkJob]:
    rnd = random.Random(19)
    for i in range(jobs):
        created = NOW - dt.timedelta(seconds=rnd.uniform(60, 90 * 86400))
        pages = rnd.randint(1, 30)
        state = JobState.PENDING_HELD if i % 500 == 0 else rnd.choice(ENDED)
        yield BulkJob("office", i + 1, username(rnd.randrange(users)), state, created,
                      completed_at=None if state == JobState.PENDING_HELD
                      else created + dt.timedelta(seconds=5),
                      impressions=pages, impressions_col=rnd.choice((0, pages // 2)))


async def timed(label: str, rounds: int, call: Callable[[], Awaitable[Any]]) -> float:
    await call()
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        await call()
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
    print(f"  {label:<44} p50 {statistics.median(times):7.1f}  p95 {p95:7.1f}  "
          f"max {times[-1]:7.1f} ms", flush=True)
    return p95


def build(url: str, users: int, jobs: int) -> None:
    engine = make_engine(url)
    upgrade(engine)
    t0 = time.perf_counter()
    insert_users(engine, people(users))
    t1 = time.perf_counter()
    insert_jobs(engine, history(jobs, users))
    print(f"  made {users} users in {t1 - t0:.1f} s, {jobs} jobs in "
          f"{time.perf_counter() - t1:.1f} s", flush=True)
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            # What autovacuum does to a table of this size soon after: statistics, and the
            # visibility map that lets an index-only scan skip the rows.
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                "VACUUM ANALYZE")
        else:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()
    engine.dispose()


async def measure(url: str, rounds: int, users: int) -> dict[str, float]:
    engine = make_engine(url)
    admin = Actor.system("bench")
    out: dict[str, float] = {}
    async with JobStore(engine) as store:
        svc = UserList(engine, LogAudit(), store.reports)
        deep = (users // 2) // 50 * 50

        def page(offset: int = 0, sort: str = "username", desc: bool = False,
                 limit: int = 50, **flt: str) -> Callable[[], Awaitable[Any]]:
            return lambda: svc.page_at(admin, make_filter(**flt), offset=offset,
                                       limit=limit, sort=sort, descending=desc)
        cases = [("default, first page of 20", page(limit=20)),
                 ("default, first page of 50", page()),
                 (f"default, page at offset {deep}", page(deep)),
                 ("by email, descending, first page", page(sort="email", desc=True)),
                 (f"by email, page at offset {deep}", page(deep, sort="email")),
                 ('fragment "son"', page(search="son")),
                 ('fragment "son", page 10', page(450, search="son")),
                 ('fragment "uni.example" (email)', page(search="uni.example")),
                 ("group group-042", page(group="group-042")),
                 ("internal, active, by email", page(type="internal", status="active",
                                                     sort="email")),
                 ("admins", page(role="admin")),
                 ("deleted", page(status="deleted")),
                 ("fragment matching none", page(search="qqqq"))]
        for label, call in cases:
            out[label] = await timed(label, rounds, call)
    engine.dispose()
    return out


async def export(url: str, kind: str, path: str) -> None:
    """Every live user as PDF or CSV into ``path`` (run in a process of its own)."""
    engine = make_engine(url)
    admin = Actor.system("bench")
    loop = asyncio.get_running_loop()
    async with JobStore(engine) as store:
        svc = UserList(engine, LogAudit(), store.reports)
        batches = svc.batches(admin, make_filter())
        out = await asyncio.to_thread(Path(path).open, "wb")
        try:
            if kind == "csv":
                async for batch in batches:
                    out.write("".join(csv_line(i) for i in batch).encode())
            else:
                def rows() -> Iterator[dict[str, Any]]:
                    while batch := asyncio.run_coroutine_threadsafe(
                            anext(batches, []), loop).result():
                        yield from batch
                n = await asyncio.to_thread(write_pdf, rows(), out, selection="every user",
                                            made=NOW)
                print(f"    {n} users", flush=True)
        finally:
            out.close()
    engine.dispose()
    print(f"peak-rss-kb {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}", flush=True)


def run_export(url: str, kind: str) -> tuple[float, float, int]:
    """(seconds, peak RSS in MB, bytes) of an export in a child process of its own (the
    child reports its own ru_maxrss: this process's tables and caches are not in it)."""
    with tempfile.NamedTemporaryFile(suffix=f".{kind}") as out:
        t0 = time.perf_counter()
        done = subprocess.run([sys.executable, __file__, "--export", kind, "--url", url,
                               "--out", out.name], check=True, capture_output=True, text=True)
        took = time.perf_counter() - t0
        size = Path(out.name).stat().st_size
    peak = int(done.stdout.rsplit("peak-rss-kb ", 1)[1].split()[0])  # KB on Linux
    return took, peak / 1024, size


def backend(url: str, args: argparse.Namespace, name: str) -> list[str]:
    print(f"{name}, {args.users} users, {args.jobs} jobs", flush=True)
    build(url, args.users, args.jobs)
    res = asyncio.run(measure(url, args.rounds, args.users))
    failed = [f"{name} {k}" for k, v in res.items() if v >= 100]
    for kind in ("pdf", "csv"):
        took, peak, size = run_export(url, kind)
        print(f"  export {kind.upper()}: {took:.1f} s, peak RSS {peak:.0f} MB, "
              f"{size / 1e6:.1f} MB", flush=True)
        if kind == "pdf" and peak >= 200:
            failed.append(f"{name} PDF peak RSS {peak:.0f} MB")
    return failed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--users", type=int, default=100_000)
    ap.add_argument("--jobs", type=int, default=300_000)
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    ap.add_argument("--export", choices=("pdf", "csv"), help=argparse.SUPPRESS)
    ap.add_argument("--url", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.export:
        asyncio.run(export(args.url, args.export, args.out))
        return
    failed: list[str] = []
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory(prefix="bench-users-") as tmp:
            failed += backend(f"sqlite:///{tmp}/users.sqlite", args, "SQLite")
    if args.backend in ("postgresql", "both"):
        cluster = start_cluster(durable=False)
        try:
            failed += backend(cluster.create_database(), args, "PostgreSQL")
        finally:
            cluster.stop()
    print("goal (list p95 < 100 ms, PDF < 200 MB RSS):", "met" if not failed else
          "NOT met by " + ", ".join(failed))


if __name__ == "__main__":
    main()
