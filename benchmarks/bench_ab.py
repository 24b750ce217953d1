"""Two revisions of ippproxy, paired: which one takes Print-Jobs faster, beyond the noise.

    .venv/bin/python benchmarks/bench_ab.py --a HEAD~1 [--b WORKTREE] [--accounting off|on]
        [--pages 1] [--jobs 1500] [--slices 8] [--concurrency 8]

Theory of operation. On a shared machine the same server's rate moves by 30 % and more
from one minute to the next (README, Benchmarks), so two runs made one after the other
cannot tell a 10 % change from the neighbours' load. This benchmark runs both revisions at
once, each an ``ippproxy serve`` of its own (the real command, tests/support/server.py)
printing to an ``ippeveprinter -c /bin/true`` of its own, the same configuration as
``bench_intake.py``'s (accounting off, or on: a cost model, users created on print), and
sends them slices of ``--jobs`` Print-Jobs at concurrency ``--concurrency`` in the order
A B, B A, A B, ... (each pair of slices sees the same moments of the machine, and neither
side always goes first). After each slice the server's queue drains, so every slice
starts from the same state. It prints each side's median jobs/s and server CPU per job,
then the ratio B/A of every pair, their median and range, how many pairs B won, and a
two-sided sign test: the chance of a split at least that uneven if both revisions were
the same. A change is measured when that chance is small (under 0.05 takes 8 pairs of
8, or 10 of 11); a median ratio alone, on this machine, is not.

A revision is a git revision of this repository (checked out into a temporary worktree,
run with ``PYTHONPATH`` pointing at it) or ``WORKTREE``, the files as they are. The
compiled raster walk (``ippproxy/filters/_rasterwalk*.so``, built by ``make`` and not in
git) is copied into the worktree; the benchmark stops if its C source differs there.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_intake as bi
from support.server import IppProxy

from testprinters.dbus import PrivateDBus
from testprinters.eve import EvePrinter

WORKTREE = "WORKTREE"
RASTER_C = Path("ippproxy/filters/_rasterwalk.c")


def sign_test(wins: int, pairs: int) -> float:
    """Two-sided sign test: the chance of ``wins`` of ``pairs`` (or a split at least as
    uneven, either way) when each side wins a pair with probability 1/2."""
    if pairs == 0:
        return 1.0
    k = max(wins, pairs - wins)
    tail: float = sum(math.comb(pairs, i) for i in range(k, pairs + 1)) / 2 ** pairs
    return min(1.0, 2 * tail)


@dataclass
class Side:
    name: str
    revision: str
    proxy: IppProxy
    printer: EvePrinter
    rates: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)   # server ms per job


def source_tree(revision: str, tmp: Path) -> Path:
    """Where ``revision``'s ippproxy package lives: this tree, or a fresh worktree."""
    if revision == WORKTREE:
        return ROOT
    tree = tmp / f"tree-{len(list(tmp.glob('tree-*')))}"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "--quiet",
                    str(tree), revision], check=True)
    if (tree / RASTER_C).read_bytes() != (ROOT / RASTER_C).read_bytes():
        raise SystemExit(f"{revision}: {RASTER_C} differs from this tree's; build it there")
    for built in (ROOT / RASTER_C.parent).glob("_rasterwalk*.so"):
        shutil.copy2(built, tree / RASTER_C.parent / built.name)
    return tree


def start_side(name: str, revision: str, tree: Path, tmp: Path, dbus: PrivateDBus,
               accounting: bool) -> Side:
    printer = EvePrinter(f"AB{name}", dbus=dbus, command=bi.PRINTER_COMMAND).start()
    queue: dict[str, str] = {"name": "bench", "destination": printer.uri}
    if accounting:
        queue["cost_model"] = "bench"
    # The package from ``tree`` first on the path, run as ``python -m ippproxy.cli``.
    command = ["env", f"PYTHONPATH={tree}", sys.executable, "-m", "ippproxy.cli"]
    proxy = IppProxy(tmp / f"proxy-{name}", queues=[queue], server=dict(bi.SERVER),
                     forwarding={"poll_interval": 0.05}, command=command)
    if accounting:
        proxy.config_path.write_text(proxy.config_path.read_text() + bi.ACCOUNTING)
    proxy.start()
    return Side(name, revision, proxy, printer)


def run_slice(side: Side, document: bytes, jobs: int, c: int, label: str) -> None:
    p = side.proxy
    before = bi.process_cpu(p.pid)
    result = asyncio.run(bi.load(p.port, p.path("bench"), p.uri("bench"), document, jobs, c,
                                 label))
    side.rates.append(result.rate)
    side.cpu.append(1000 * (bi.process_cpu(p.pid) - before) / max(result.ok, 1))
    bi.drain(p.port, p.path("bench"), p.uri("bench"), 120)


def report(a: Side, b: Side) -> None:
    for s in (a, b):
        print(f"{s.name} ({s.revision}): jobs/s median {statistics.median(s.rates):.0f} "
              f"({min(s.rates):.0f}-{max(s.rates):.0f}), server CPU per job median "
              f"{statistics.median(s.cpu):.2f} ms ({min(s.cpu):.2f}-{max(s.cpu):.2f})")
    ratios = [rb / ra for ra, rb in zip(a.rates, b.rates, strict=True) if ra > 0]
    wins = sum(r > 1 for r in ratios)
    print(f"B/A jobs/s, paired: median {statistics.median(ratios):.3f} "
          f"({min(ratios):.2f}-{max(ratios):.2f}); B faster in {wins} of {len(ratios)} "
          f"pairs; sign test p = {sign_test(wins, len(ratios)):.3f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--a", default="HEAD", help=f"revision A (git revision or {WORKTREE})")
    ap.add_argument("--b", default=WORKTREE, help=f"revision B (git revision or {WORKTREE})")
    ap.add_argument("--accounting", choices=("off", "on"), default="off")
    ap.add_argument("--pages", type=int, default=1, help="pages of the PDF each job sends")
    ap.add_argument("--jobs", type=int, default=1500, help="Print-Jobs per slice")
    ap.add_argument("--slices", type=int, default=8, help="slices per side (pairs)")
    ap.add_argument("--concurrency", type=int, default=8)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-ab-") as name:
        tmp = Path(name)
        trees: list[Path] = []
        sides: list[Side] = []
        dbus: PrivateDBus | None = None
        try:
            trees += [source_tree(r, tmp) for r in (args.a, args.b)]
            document = bi.make_pdf(tmp / "doc.pdf", args.pages)
            dbus = PrivateDBus(tmp / "dbus").start()
            for label, revision, tree in zip("AB", (args.a, args.b), trees, strict=True):
                sides.append(start_side(label, revision, tree, tmp, dbus,
                                        args.accounting == "on"))
            print(f"A {args.a}, B {args.b}: {args.pages}-page PDF ({len(document)} bytes), "
                  f"accounting {args.accounting}, {args.slices} pairs of {args.jobs} jobs "
                  f"at c={args.concurrency}, each server printing to its own ippeveprinter",
                  flush=True)
            for s in sides:   # warm-up: connections, caches, users created
                run_slice(s, document, min(args.jobs, 600), args.concurrency, "warm")
                s.rates.clear()
                s.cpu.clear()
            for k in range(args.slices):
                for s in (sides if k % 2 == 0 else sides[::-1]):
                    run_slice(s, document, args.jobs, args.concurrency, f"s{k}")
                print(f"  pair {k + 1}: A {sides[0].rates[-1]:.0f}, B {sides[1].rates[-1]:.0f}"
                      " jobs/s", flush=True)
            report(*sides)
        finally:
            for s in sides:
                s.proxy.stop()
                s.printer.stop()
            if dbus is not None:
                dbus.stop()
            # Every worktree made so far, also when the second one failed.
            for tree in tmp.glob("tree-*"):
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                                str(tree)], check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
