"""Get-Printer-Attributes latency with accounting on, idle and during four conversions.

The real ``ippproxy serve`` (subprocess) with the configuration of
tests/e2e/test_accounting_e2e.py: accounting on, 4 analysis workers, members of
"students" forced to grayscale. Four Print-Jobs of heavy colour PDFs by a student start
four conversions in the pool; once Ghostscript runs under the server, N
Get-Printer-Attributes requests go one after the other on one connection, and their
round-trip times (time.perf_counter) are printed as p50/p99, with how many of the four
Print-Jobs were still unanswered when the last request was. The same N requests on the
idle server first give the baseline. The test (same file name above) checks that these
requests are answered while the conversions run; this prints how fast.

    .venv/bin/python benchmarks/bench_latency.py [--requests 100] [--rounds 1]
"""

from __future__ import annotations

import argparse
import http.client
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from e2e.ipp_client import build
from e2e.test_accounting_e2e import EXTRA, Env, ghostscripts, heavy_pdf
from support.server import IppProxy

from ippproxy.ipp import Attribute, Operation, Status, Tag, decode, encode


def latencies(env: Env, n: int) -> list[float]:
    """Round-trip seconds of ``n`` Get-Printer-Attributes on one keep-alive connection."""
    conn = http.client.HTTPConnection(env.proxy.host, env.proxy.port, timeout=30)
    body = encode(build(Operation.GET_PRINTER_ATTRIBUTES, env.proxy.uri("colour"), op_attrs=[
        Attribute.single("requested-attributes", Tag.KEYWORD, "printer-description")]))
    out = []
    try:
        for _ in range(n):
            start = time.perf_counter()
            conn.request("POST", env.proxy.path("colour"), body,
                         {"Content-Type": "application/ipp"})
            resp = conn.getresponse()
            data = resp.read()
            out.append(time.perf_counter() - start)
            if resp.status != 200 or decode(data).code != Status.SUCCESSFUL_OK:
                raise RuntimeError(f"Get-Printer-Attributes failed: HTTP {resp.status}")
    finally:
        conn.close()
    return sorted(out)


def figures(label: str, lat: list[float], extra: str = "") -> str:
    p99 = lat[min(len(lat) - 1, round(0.99 * len(lat)) - 1)]
    return (f"{label}: {len(lat)} requests, p50 {statistics.median(lat) * 1000:6.1f} ms, "
            f"p99 {p99 * 1000:6.1f} ms, max {lat[-1] * 1000:6.1f} ms{extra}")


def during_conversions(env: Env, n: int) -> tuple[list[float], int]:
    docs = [heavy_pdf(f"heavy {i}") for i in range(4)]
    codes: list[int] = []
    threads = [threading.Thread(target=lambda d=d: codes.append(
        env.print_job("colour", d, user="dan").code)) for d in docs]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 60
    while not ghostscripts(env.proxy.pid) and time.monotonic() < deadline:
        time.sleep(0.01)
    lat = latencies(env, n)
    busy = sum(t.is_alive() for t in threads)
    for t in threads:
        t.join(300)
    if codes != [Status.SUCCESSFUL_OK] * 4:
        raise RuntimeError(f"the Print-Jobs failed: {codes}")
    return lat, busy


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=1, help="conversion rounds, 4 jobs each")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-latency-") as d:
        proxy = IppProxy(Path(d), queues=[{"name": "colour", "cost_model": "colour"}])
        proxy.config_path.write_text(proxy.config_path.read_text() + EXTRA)
        with proxy:
            env = Env(proxy)
            env.cmd("add-internal-user", "dan", "--password-file", "-", "--group", "students",
                    "--balance", "1000000.00", stdin="dan-pw\n")
            latencies(env, 5)  # warm-up: the first requests build caches
            print(figures("idle                      ", latencies(env, a.requests)))
            for r in range(a.rounds):
                lat, busy = during_conversions(env, a.requests)
                print(figures(f"during 4 conversions (#{r + 1})", lat,
                              f", {busy} of 4 Print-Jobs still unanswered at the end"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
