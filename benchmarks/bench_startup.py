"""How long the commands an admin types take to start: ``ippproxy cmd list-users`` on a
database that exists, and ``ippproxy serve`` from its start to its ready line, first on a
new database (the schema made) and then restarted on it (the schema already there).
Prints the median and the range of each, in seconds, wall and CPU (user + system of the
child), so that two revisions can be compared by running it on each.

    .venv/bin/python benchmarks/bench_startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from support.server import IppProxy, ippproxy_command


def _children_cpu() -> float:
    t = os.times()
    return t.children_user + t.children_system


def cmd_once(database: str) -> tuple[float, float]:
    c0, t0 = _children_cpu(), time.perf_counter()
    subprocess.run([*ippproxy_command(), "cmd", "--database", database, "list-users"],
                   check=True, capture_output=True, timeout=60)
    return time.perf_counter() - t0, _children_cpu() - c0


def serve_once(proxy: IppProxy) -> float:
    t0 = time.perf_counter()
    proxy.start()
    took = time.perf_counter() - t0
    proxy.stop()
    return took


def line(name: str, values: list[float]) -> str:
    return (f"  {name:38} median {statistics.median(values):5.2f} s  "
            f"({min(values):.2f}-{max(values):.2f}, {len(values)} runs)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        database = f"sqlite:///{Path(tmp) / 'cmd.sqlite'}"
        cmd_once(database)   # makes the database: what follows finds it
        walls, cpus = zip(*(cmd_once(database) for _ in range(args.runs)), strict=True)
        fresh, again = [], []
        for i in range(args.runs):
            proxy = IppProxy(Path(tmp) / f"serve{i}", queues=[{"name": "q"}])
            fresh.append(serve_once(proxy))
            again.append(serve_once(proxy))
    print("start-up, existing SQLite database unless said:")
    print(line("ippproxy cmd list-users, wall", list(walls)))
    print(line("ippproxy cmd list-users, CPU", list(cpus)))
    print(line("ippproxy serve to ready, new database", fresh))
    print(line("ippproxy serve to ready, restarted", again))
    return 0


if __name__ == "__main__":
    sys.exit(main())
