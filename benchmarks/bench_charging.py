"""Charges per second: reserve + settle of one-page jobs, SQLite and PostgreSQL, 1 and 2 nodes.

    .venv/bin/python benchmarks/bench_charging.py [--jobs N] [--threads T] [--ipp-jobs N]

A "node" is a separate OS process (tests/support/loadgen.py) with its own
engine and T threads; every job is reserved and settled (two transactions, each
with a row lock and a ledger row). PostgreSQL is a throwaway cluster
(tests/support/postgres.py) started durable, as in production: fsync,
synchronous_commit and full_page_writes on, so every COMMIT waits for its disk
flush (``--volatile``: off, as the tests run it, to see locking and round trips
alone); SQLite is a WAL file with synchronous=FULL.

The "ipp" lines run the whole server: 1 or 2 ``ippproxy serve`` processes on one
PostgreSQL and one spool (the multi-node deployment), 16 client connections sending
one-page PDF Print-Jobs over IPP split between the nodes, one virtual printer; every
job charged to one user's account, then to 16 users' (one a connection). The clients
are ``bench_intake``'s load generator (asyncio, HTTP/1.1 keep-alive, the request encoded
once by the codec). The blocking client it replaced (16 threads, a new connection a
job) cost more CPU a job, its own and the servers' (README, "Intake,
twenty-ninth session"), on the two cores they share. They print jobs accepted per second
(intake: analysis, rules, price, reserve, commit), jobs settled per second (until every
job printed and its charge settled), and the CPU a job accepted of the servers (with
their analysis workers), of PostgreSQL (the postmaster and its backends) and of the
load generator, from /proc and os.times while the jobs were sent.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from bench_intake import (
    GC,
    METRICS_TOKEN,
    PART,
    STORE,
    RunResult,
    children_cpu,
    load,
    process_cpu,
    server_stages,
    store_line,
)
from support.postgres import PostgresCluster, start_cluster

from ippproxy.accounting import users
from ippproxy.db import make_engine, upgrade

WORKER = """
import json, sys
from support.loadgen import run
url, user, n, threads, go = sys.argv[1:]
print(json.dumps(run(url, user, "p1", int(n), int(threads), go, settle=True)))
"""


def prepare(url: str, users_n: int) -> None:
    engine = make_engine(url)
    upgrade(engine)
    with engine.begin() as conn:
        for i in range(users_n):
            users.add_user(conn, f"bench{i}", defaults=users.UserDefaults("EUR", 10**12, False))
    engine.dispose()


def measure(url: str, nodes: int, jobs: int, threads: int, tmp: Path) -> float:
    prepare(url, nodes)
    go = tmp / f"go-{time.monotonic_ns()}"
    env = {**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'tests'}"}
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, url, f"bench{i}",
                               str(jobs // nodes), str(threads), str(go)],
                              stdout=subprocess.PIPE, text=True, env=env)
             for i in range(nodes)]
    time.sleep(1.0)  # let the workers import and connect before the start signal
    start = time.perf_counter()
    go.touch()
    outs = [json.loads(p.communicate()[0]) for p in procs]
    wall = time.perf_counter() - start
    done = sum(o["accepted"] for o in outs)
    return done / wall


@dataclass(frozen=True)
class CpuPerJob:
    """Milliseconds of CPU (user + system) a job accepted."""

    servers: float    # every node, with its analysis workers
    database: float   # the postmaster and its backends
    client: float     # the load generator


def report(before: dict[str, tuple[float, float]],
           after: dict[str, tuple[float, float]]) -> None:
    """The first node's own account of the jobs it accepted (bench_intake's figures: its
    Print-Jobs' stages from /metrics, and its job store's writer)."""
    run = {k: (v[0] - before.get(k, (0.0, 0.0))[0], v[1] - before.get(k, (0.0, 0.0))[1])
           for k, v in after.items()}
    intake = {k: v for k, v in run.items() if not k.startswith((PART, GC, STORE)) and v[0]}
    if intake:
        print("  node n0's stages, mean ms per job: " + "  ".join(
            f"{k} {v[1] / v[0] * 1000:.2f}" for k, v in intake.items()))
    writer = store_line(run)
    if writer:
        print(f"  node n0's {writer.removeprefix('the ')}")


def measure_ipp(cluster: PostgresCluster, nodes: int, jobs: int, tmp: Path,
                clients: int = 16, users: int = 1) -> tuple[float, float, CpuPerJob]:
    """``users``: 1, every job charged to one account (each reservation waits for the
    previous one's row lock and COMMIT); ``clients``, one user (and account) a client."""
    from e2e.test_multinode_pg import Printer, cmd, node, one_page_pdf, start_all
    from sqlalchemy import func, select

    from ippproxy.accounting.models import CHARGES

    url = cluster.create_database()
    base = tmp / f"ipp{nodes}-{users}"
    base.mkdir()
    printer = Printer(base)
    # One user sends every job: no per-user cap (server.max_jobs_per_user, 200 by default,
    # refused the rest with server-error-too-many-jobs).
    proxies = [node(base, f"n{i}", url, printer, base / "spool",
                    server={"max_jobs_per_user": 0, "metrics_token": METRICS_TOKEN},
                    fast=False) for i in range(nodes)]
    try:
        start_all(proxies)
        names = ["bench"] if users == 1 else [f"bench{c}" for c in range(users)]
        for name in names:
            cmd(url, "add-internal-user", name, "--password-file", "-", "--unrestricted",
                "--balance", "1000000", stdin="bench-pw\n")
        doc = one_page_pdf("bench")
        servers = [p.pid for p in proxies]
        database = cluster.postmaster_pid()

        def cpu() -> tuple[float, float, float]:
            t = os.times()
            return (sum(process_cpu(pid) + children_cpu(pid) for pid in servers),
                    process_cpu(database) + children_cpu(database), t.user + t.system)

        async def send() -> list[RunResult]:
            # Connection k goes to node k % nodes and prints as names[k % len(names)].
            return await asyncio.gather(*(
                load(proxies[n].port, proxies[n].path(), proxies[n].uri(), doc,
                     jobs // nodes + (n < jobs % nodes), clients // nodes, "bench",
                     users=names[n::nodes] or names)
                for n in range(nodes)))

        before, stages = cpu(), server_stages(proxies[0].port)
        start = time.perf_counter()
        results = asyncio.run(send())
        accepted = time.perf_counter() - start
        after = cpu()
        report(stages, server_stages(proxies[0].port))
        failed = {k: v for r in results for k, v in r.errors.items()}
        assert sum(r.ok for r in results) == jobs and not failed, failed
        spent = CpuPerJob(*((b - a) / jobs * 1000 for a, b in zip(before, after, strict=True)))
        engine = make_engine(url)
        settled = select(func.count()).select_from(CHARGES).where(CHARGES.c.state == "settled")
        while True:
            with engine.connect() as conn:
                if conn.execute(settled).scalar_one() >= jobs:
                    break
            time.sleep(0.05)
        engine.dispose()
        return jobs / accepted, jobs / (time.perf_counter() - start), spent
    finally:
        for p in proxies:
            p.stop()
        printer.close()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=2000)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--ipp-jobs", type=int, default=400)
    ap.add_argument("--volatile", action="store_true",
                    help="PostgreSQL with fsync off (not durable: what the tests use)")
    ap.add_argument("--ipp-only", action="store_true",
                    help="only the IPP lines (the whole server)")
    a = ap.parse_args()
    cluster = start_cluster(durable=not a.volatile)
    print(f"PostgreSQL: fsync {'off (not durable)' if a.volatile else 'on (durable)'}")
    try:
        with tempfile.TemporaryDirectory() as d:
            tmp = Path(d)
            for nodes in () if a.ipp_only else (1, 2):
                sqlite = f"sqlite:///{tmp / f'bench{nodes}.db'}"
                rate = measure(sqlite, nodes, a.jobs, a.threads, tmp)
                print(f"sqlite      nodes={nodes} threads={a.threads}: {rate:8.0f} charges/s")
                pg = cluster.create_database()
                rate = measure(pg, nodes, a.jobs, a.threads, tmp)
                print(f"postgresql  nodes={nodes} threads={a.threads}: {rate:8.0f} charges/s")
            for users in (1, 16):
                for nodes in (1, 2):
                    accepted, settled, spent = measure_ipp(cluster, nodes, a.ipp_jobs, tmp,
                                                           users=users)
                    print(f"postgresql  nodes={nodes} ipp (16 clients, {users:2d} user"
                          f"{'s' if users > 1 else ' '}): {accepted:6.0f} jobs accepted/s, "
                          f"{settled:6.0f} printed and settled/s; CPU a job accepted: "
                          f"servers {spent.servers:.2f} ms, PostgreSQL {spent.database:.2f} "
                          f"ms, clients {spent.client:.2f} ms")
    finally:
        cluster.stop()
        shutil.rmtree(cluster.root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
