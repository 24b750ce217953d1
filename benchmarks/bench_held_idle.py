"""What a server with many held jobs costs while nobody prints: CPU per second and per
settlement sweep.

    .venv/bin/python benchmarks/bench_held_idle.py [--held 4000] [--seconds 30]
        [--interval 5]

A secure-print site keeps jobs held until their owners release them, each with its charge
reserved (accounting on). The settlement sweep (pipeline/settle.py) runs every
``accounting.settle_interval`` seconds and looks at every reserved charge. One real
``ippproxy serve`` with accounting on (a cost model, users created on print) and its queue
paused (the jobs stay pending, their charges reserved, as held jobs' do) takes ``--held``
1-page PDF Print-Jobs from bench_intake.py's load generator; then, once the machine is
quiet, this script reads the server's CPU time over ``--seconds`` seconds in which no
request arrives, with ``settle_interval = --interval``. It prints the server's CPU per
second and per sweep, and per held job per sweep.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import bench_intake as bi
from support.admin import master_authorization
from support.server import IppProxy

from ippproxy.config import load as load_config
from ippproxy.ipp import Operation
from testprinters.dbus import PrivateDBus
from testprinters.eve import EvePrinter


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--held", type=int, default=4000, help="jobs held (reserved) at once")
    ap.add_argument("--seconds", type=float, default=30.0, help="idle time measured")
    ap.add_argument("--interval", type=float, default=5.0,
                    help="accounting.settle_interval of the server (seconds)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-held-"))
    document = bi.make_pdf(tmp / "p1.pdf", 1)
    dbus = PrivateDBus(tmp / "dbus").start()
    eve = EvePrinter("BenchHeld", dbus=dbus, command=bi.PRINTER_COMMAND)
    proxy: IppProxy | None = None
    try:
        eve.start()
        proxy = IppProxy(tmp / "proxy", queues=[{"name": "bench", "destination": eve.uri,
                                                  "cost_model": "bench"}],
                         log_level="warning", server=bi.SERVER)
        accounting = bi.ACCOUNTING.replace("settle_interval = 5",
                                           f"settle_interval = {args.interval:g}")
        proxy.config_path.write_text(proxy.config_path.read_text() + accounting)
        proxy.start()
        admin = asyncio.run(master_authorization(load_config(proxy.config_path)))
        reply = bi.ipp_simple(proxy.port, proxy.path("bench"), proxy.uri("bench"),
                              Operation.PAUSE_PRINTER, authorization=admin)
        assert reply.code == 0, f"Pause-Printer: 0x{reply.code:04x}"
        target = bi.proxy_target(proxy, "ippproxy+acct", 600.0)
        loaded = bi.measured_load(target, document, args.held, 8, "held")
        assert loaded.ok == args.held, f"{loaded.ok} of {args.held} jobs accepted"
        bi.wait_quiet(timeout=60)
        pid = target.pid()
        c0, t0 = bi.process_cpu(pid), time.monotonic()
        time.sleep(args.seconds)
        cpu, elapsed = bi.process_cpu(pid) - c0, time.monotonic() - t0
        sweeps = elapsed / args.interval
        print(f"{args.held} jobs held (reserved), settle_interval {args.interval:g} s, "
              f"{elapsed:.0f} s idle:")
        print(f"  server CPU {1000 * cpu / elapsed:7.1f} ms per second, "
              f"{1000 * cpu / sweeps:8.1f} ms per sweep, "
              f"{1e6 * cpu / sweeps / args.held:6.1f} us per held job and sweep")
        return 0
    finally:
        if proxy is not None:
            proxy.stop()
        eve.stop()
        dbus.stop()


if __name__ == "__main__":
    raise SystemExit(main())
