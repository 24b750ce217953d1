"""Charges per second: reserve + settle of one-page jobs, SQLite and PostgreSQL, 1 and 2 nodes.

    .venv/bin/python benchmarks/bench_charging.py [--jobs N] [--threads T]

A "node" is a separate OS process (ippproxy.accounting.loadgen) with its own
engine and T threads; every job is reserved and settled (two transactions, each
with a row lock and a ledger row). PostgreSQL is a throwaway cluster
(tests/support/postgres.py: fsync off, so the figures show locking and
round-trips, not disk flushes); SQLite is a WAL file with synchronous=FULL.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from support.postgres import start_cluster

from ippproxy.accounting import users
from ippproxy.db import make_engine, upgrade

WORKER = """
import json, sys
from ippproxy.accounting.loadgen import run
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
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
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


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=2000)
    ap.add_argument("--threads", type=int, default=4)
    a = ap.parse_args()
    cluster = start_cluster()
    try:
        with tempfile.TemporaryDirectory() as d:
            tmp = Path(d)
            for nodes in (1, 2):
                sqlite = f"sqlite:///{tmp / f'bench{nodes}.db'}"
                rate = measure(sqlite, nodes, a.jobs, a.threads, tmp)
                print(f"sqlite      nodes={nodes} threads={a.threads}: {rate:8.0f} charges/s")
                pg = cluster.create_database()
                rate = measure(pg, nodes, a.jobs, a.threads, tmp)
                print(f"postgresql  nodes={nodes} threads={a.threads}: {rate:8.0f} charges/s")
    finally:
        cluster.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
