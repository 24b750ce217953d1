"""Forwarding: jobs sent to the printer and ended per second, and what each costs the server.

    .venv/bin/python benchmarks/bench_forwarding.py [--jobs 1000] [--rounds 2]
        [--accounting off|on] [--tree DIR]

Theory of operation. One ``ippproxy serve`` (the real command, tests/support/server.py)
with one queue forwarding to an ``ippeveprinter -c /bin/true`` of its own, like
``bench_intake.py``'s (a 0.05 s poll of the printer's job). Each round pauses the queue
(Pause-Printer, as the master admin over TLS), sends ``--jobs`` one-page PDF Print-Jobs at
concurrency 8, waits for the machine to be quiet, resumes the queue and times the
forwarder until every job has ended: claimed, ``forward_started`` committed, sent,
followed, its counts and its end recorded (and, with ``--accounting on``, its charge
settled). A queue's jobs go one at a time, in order (forwarding/order.py), so this is
the rate of one printer's queue. It prints, per round, jobs ended per second and the
server's CPU per job (all its threads; the main thread, the event loop, apart), the
bench's own Get-Jobs polls (one a second) included, and the bytes per job it sent to
the disk (``write_bytes`` of /proc/PID/io: each durable write is a commit to the
database's log, which the neighbours do not move).

``--tree DIR`` runs the server from another checkout (``PYTHONPATH=DIR``, as
bench_ab.py does), to compare two revisions round by round.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_intake as bi
from support.admin import master_authorization
from support.server import IppProxy

from ippproxy.config import load as load_config
from ippproxy.ipp import Operation
from testprinters.dbus import PrivateDBus
from testprinters.eve import EvePrinter


def main_thread_cpu(pid: int) -> float:
    """Seconds of CPU of the process's main thread (the event loop), from its schedstat."""
    return bi.thread_sched(pid).get("main", (0.0, 0.0, 0))[0]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--accounting", choices=("off", "on"), default="off")
    ap.add_argument("--tree", type=Path, default=None,
                    help="run the server from this checkout (PYTHONPATH)")
    args = ap.parse_args()
    command = None if args.tree is None else [
        "env", f"PYTHONPATH={args.tree}", sys.executable, "-m", "ippproxy.cli"]
    with tempfile.TemporaryDirectory(prefix="bench-forwarding-") as tmp_name:
        tmp = Path(tmp_name)
        document = bi.make_pdf(tmp / "p1.pdf", 1)
        dbus = PrivateDBus(tmp / "dbus").start()
        eve = EvePrinter("BenchFwd", dbus=dbus, command=bi.PRINTER_COMMAND)
        eve.start()
        queue: dict[str, str] = {"name": "bench", "destination": eve.uri}
        if args.accounting == "on":
            queue["cost_model"] = "bench"
        proxy = IppProxy(tmp / "proxy", queues=[queue], forwarding={"poll_interval": 0.05},
                         server=dict(bi.SERVER), log_level="warning", command=command)
        if args.accounting == "on":
            proxy.config_path.write_text(proxy.config_path.read_text() + bi.ACCOUNTING)
        proxy.start()
        try:
            path, uri = proxy.path("bench"), proxy.uri("bench")
            admin = asyncio.run(master_authorization(load_config(proxy.config_path)))

            def admin_op(op: int) -> None:
                reply = bi.ipp_simple(proxy.port, path, uri, op, authorization=admin)
                if reply.code != 0:
                    raise SystemExit(f"operation 0x{op:04x}: status 0x{reply.code:04x}")

            print(f"ippproxy {uri} -> ippeveprinter -c {bi.PRINTER_COMMAND}, accounting "
                  f"{args.accounting}, {args.jobs} one-page jobs a round"
                  + (f", server from {args.tree}" if args.tree else ""))
            for n in range(args.rounds):
                admin_op(Operation.PAUSE_PRINTER)
                sent = asyncio.run(bi.load(proxy.port, path, uri, document, args.jobs, 8,
                                           "paused"))
                bi.wait_quiet()
                cpu0, main0, t0 = (bi.process_cpu(proxy.pid), main_thread_cpu(proxy.pid),
                                   time.monotonic())
                written0 = bi.process_written(proxy.pid)
                admin_op(Operation.RESUME_PRINTER)
                # Not more often: Get-Jobs lists every job left (its cost is in the figures).
                while bi.count_jobs(proxy.port, path, uri, "not-completed"):
                    time.sleep(1.0)
                wall = time.monotonic() - t0
                cpu = bi.process_cpu(proxy.pid) - cpu0
                main_cpu = main_thread_cpu(proxy.pid) - main0
                written = bi.process_written(proxy.pid) - written0
                ended = sent.ok
                print(f"  round {n + 1}: {ended} jobs ended in {wall:6.1f} s: "
                      f"{ended / wall:6.1f} jobs/s; server CPU per job {cpu / ended * 1000:6.2f}"
                      f" ms (main thread {main_cpu / ended * 1000:5.2f}); disk per job "
                      f"{written / ended / 1000:6.1f} KB", flush=True)
        finally:
            proxy.stop()
            eve.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
