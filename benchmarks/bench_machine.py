"""What this machine charges for what ippproxy does per job that cupsd does not: system
calls, waking a thread or a process, syncing a file; beside the interpreter's own speed.

ippproxy hands a job from thread to thread (the event loop, the job store's writer and
its syncer) and to an analysis worker process, each hand-off a wake-up; cupsd serves a
job on one thread. On a machine where a system call or a wake-up is dear (a virtual
machine whose guest kernel traps into the host for them), ippproxy's CPU per job rises
much more than cupsd's, and so the ratios of bench_intake.py move with the machine. Run
this beside them to tell machines apart (the README lists what past sessions saw).

    .venv/bin/python benchmarks/bench_machine.py [--dir DIR] [--rounds 20000]

``--dir``: where the fdatasync is timed (default: the current directory, where the
server's database usually is).
"""

from __future__ import annotations

import argparse
import os
import queue
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path


def _per_call(n: int, step: Callable[[], object]) -> float:
    """Microseconds per call of ``step`` (the median of five rounds of ``n // 5``)."""
    rounds, each = [], max(1, n // 5)
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(each):
            step()
        rounds.append((time.perf_counter() - t0) / each * 1e6)
    return statistics.median(rounds)


def interpreter(n: int) -> float:
    """Microseconds for a small loop of Python (the interpreter's speed alone)."""
    def step() -> None:
        total = 0
        for i in range(100):
            total += i * i
    return _per_call(n, step)


def syscall(n: int) -> float:
    return _per_call(n, os.getppid)   # the cheapest system call there is (not cached)


def thread_round_trip(n: int) -> float:
    """Microseconds for a thread to wake another and be woken back (two wake-ups)."""
    there: queue.SimpleQueue[int | None] = queue.SimpleQueue()
    back: queue.SimpleQueue[int] = queue.SimpleQueue()

    def echo() -> None:
        while (x := there.get()) is not None:
            back.put(x)

    def step() -> None:
        there.put(1)
        back.get()

    t = threading.Thread(target=echo)
    t.start()
    try:
        return _per_call(n, step)
    finally:
        there.put(None)
        t.join()


def process_round_trip(n: int) -> float:
    """Microseconds for a byte to a child process over a pipe and back."""
    r1, w1 = os.pipe()
    r2, w2 = os.pipe()
    pid = os.fork()
    if pid == 0:   # the child: echo until told to stop
        try:
            while (b := os.read(r1, 1)) != b"q":
                os.write(w2, b)
        finally:
            os._exit(0)

    def step() -> None:
        os.write(w1, b"x")
        os.read(r2, 1)

    try:
        return _per_call(n, step)
    finally:
        os.write(w1, b"q")
        os.waitpid(pid, 0)
        for fd in (r1, w1, r2, w2):
            os.close(fd)


def fdatasync(directory: Path, n: int) -> float:
    """Milliseconds to append 4 KiB to a file and fdatasync it (a commit's log sync)."""
    with tempfile.NamedTemporaryFile(dir=directory) as f:
        fd = f.fileno()
        page = b"\0" * 4096

        def step() -> None:
            os.write(fd, page)
            os.fdatasync(fd)
        return _per_call(n, step) / 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dir", type=Path, default=Path.cwd())
    ap.add_argument("--rounds", type=int, default=20_000)
    a = ap.parse_args()
    n = a.rounds
    print(f"{os.uname().release}, {os.cpu_count()} CPUs")
    print(f"  Python loop of 100 steps   {interpreter(n // 10):8.2f} us")
    print(f"  system call (getppid)      {syscall(n * 5):8.2f} us")
    print(f"  thread wake-up round trip  {thread_round_trip(n):8.2f} us")
    print(f"  process pipe round trip    {process_round_trip(n):8.2f} us")
    print(f"  4 KiB append + fdatasync   {fdatasync(a.dir, max(50, n // 40)):8.3f} ms"
          f"  ({a.dir})")


if __name__ == "__main__":
    main()
