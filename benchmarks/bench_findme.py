"""Find-Me releases (issue 17 point 7): what a release at a printer costs, end to end.

The real ``ippproxy serve`` with two real ``ippeveprinter`` printers (a colour duplex one
and a monochrome simplex one) and a Find-Me queue of both. ``--jobs`` jobs (three pages,
two in colour, two-sided) are printed to the Find-Me queue and to an ordinary queue over
IPP (intake time of each: the Find-Me hold and the dearest-printer pricing against a plain
job), then each Find-Me job is released by its owner over the REST API, alternately at the
mono printer (converted to gray in the analysis pool, re-analysed, re-priced, moved) and at
the colour printer (re-analysed and re-priced only). Printed: p50, p95 and max in ms of
each, and the time until the last released job is printed.

    .venv/bin/python benchmarks/bench_findme.py [--jobs 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from e2e.test_accounting_e2e import Env, _job_id, pdf
from e2e.test_findme import EXTRA, TWO_SIDED
from support.server import IppProxy
from support.webapi import Client, login, remember_certificate

from ippproxy.ipp import Status
from testprinters.dbus import PrivateDBus
from testprinters.eve import EvePrinter


def figures(name: str, seconds: list[float]) -> None:
    ms = sorted(s * 1000 for s in seconds)
    p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
    print(f"{name:<28} n={len(ms):<4} p50 {statistics.median(ms):8.1f} ms   "
          f"p95 {p95:8.1f} ms   max {ms[-1]:8.1f} ms")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--jobs", type=int, default=20)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-findme-") as tmp:
        base = Path(tmp)
        dbus = PrivateDBus().start()
        colour = EvePrinter("BenchColour", dbus=dbus, spool_dir=base / "colour",
                            extra_args=("-s", "10,10"))
        mono = EvePrinter("BenchMono", dbus=dbus, spool_dir=base / "mono", duplex=False,
                          extra_args=("-s", "10,0"))
        try:
            colour.start()
            mono.start()
            proxy = IppProxy(base / "proxy", queues=[
                {"name": "lab-colour", "destination": colour.uri, "cost_model": "colour"},
                {"name": "lab-mono", "destination": mono.uri, "cost_model": "mono"},
                {"name": "findme", "destination": colour.uri,
                 "findme_printers": ["lab-colour", "lab-mono"]}])
            proxy.config_path.write_text(proxy.config_path.read_text() + EXTRA)
            with proxy:
                remember_certificate(proxy)
                env = Env(proxy)
                env.cmd("add-internal-user", "alice", "--password-file", "-", "--group",
                        "staff", "--balance", "100000.00", stdin="alice-pw\n")
                alice = login(proxy.https, "alice", "alice-pw")
                run(env, alice, args.jobs)
        finally:
            mono.stop()
            colour.stop()
            dbus.stop()


def run(env: Env, alice: Client, jobs: int) -> None:
    doc = pdf([True, False, True], "bench")
    intake: dict[str, list[float]] = {"findme": [], "lab-colour": []}
    held = []
    for i in range(jobs * 2):
        queue = "findme" if i % 2 == 0 else "lab-colour"
        t = time.perf_counter()
        reply = env.print_job(queue, doc, user="alice", job_attrs=TWO_SIDED)
        intake[queue].append(time.perf_counter() - t)
        assert reply.code == Status.SUCCESSFUL_OK, reply
        if queue == "findme":
            held.append(env.job("findme", _job_id(reply)))
    released: dict[str, list[float]] = {"lab-mono": [], "lab-colour": []}
    last: tuple[str, int] | None = None
    for i, attrs in enumerate(held):
        printer = "lab-mono" if i % 2 == 0 else "lab-colour"
        uuid = str(attrs["job-uuid"]).removeprefix("urn:uuid:")
        t = time.perf_counter()
        r = alice.post(f"/api/v1/me/jobs/{uuid}/release-to",
                       json={"printer": printer})
        released[printer].append(time.perf_counter() - t)
        assert r.status_code == 200, r.text
        last = (printer, int(r.json()["job"]["job_id"]))
    t = time.perf_counter()
    if last is not None:
        env.wait_job(last[0], last[1], "ippproxy-cost-charged")
    figures("intake, Find-Me queue", intake["findme"])
    figures("intake, ordinary queue", intake["lab-colour"])
    figures("release at mono (gray)", released["lab-mono"])
    figures("release at colour", released["lab-colour"])
    print(f"last released job printed {1000 * (time.perf_counter() - t):.0f} ms after "
          "the last release")


if __name__ == "__main__":
    main()
