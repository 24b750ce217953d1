"""Does the admin's live activity slow intake? Print-Job jobs/s with 0 and with 50 admin
pages connected to ``GET /admin/events``, and whether the pages got every job.

    .venv/bin/python benchmarks/bench_events.py [--jobs 600] [--concurrency 8]
        [--clients 50] [--rounds 3]

One ``ippproxy serve`` (the real server; the pages are the master admin's, logged in
through the login page's form with the printed first-start password, over HTTPS) with one
queue forwarding to the built-in virtual printer. The load generator of bench_intake.py sends ``--jobs`` 1-page
PDF Print-Jobs over ``--concurrency`` keep-alive connections; the queue drains between
runs. Runs alternate: no page connected, then ``--clients`` event-stream connections
held by a separate process (its own CPU, as browsers would be), ``--rounds`` times. The
goal (issue 13): with 50 pages intake is at most 5 % slower (median of the rounds), and
each page receives a ``job-received`` event for every job (events dropped for slow
pages are counted too). On a shared machine jobs/s drifts between runs more than that,
so the server's CPU time per job (from /proc, intake to printed, events included) is
printed too: it moves less with the neighbours' load; and the CPU per job of the process
that holds the pages (it shares the server's cores here, where browsers would be
elsewhere), to tell how much of a difference it could explain.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_intake import count_jobs, load, make_pdf, process_cpu
from support.server import IppProxy
from support.webapi import first_password, form_login, register


async def listen(url: str, clients: int, ready: Path, cookie: str, cafile: str) -> None:
    """The child process: ``clients`` event streams; on SIGTERM prints what each got."""
    import aiohttp

    got = [{"received": 0, "other": 0, "dropped": 0} for _ in range(clients)]
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)

    async def one(k: int, session: aiohttp.ClientSession, opened: asyncio.Event) -> None:
        # Counted in whole chunks, not line by line: this process shares the machine
        # with the server, and browsers would be elsewhere.
        async with session.get(url) as resp:
            opened.set()
            tail = b""
            async for chunk in resp.content.iter_any():
                data = tail + chunk
                cut = data.rfind(b"\n") + 1
                data, tail = data[:cut], data[cut:]
                received = data.count(b"event: job-received")
                dropped = data.count(b"event: events-dropped")
                got[k]["received"] += received
                got[k]["dropped"] += dropped
                got[k]["other"] += data.count(b"event: ") - received - dropped

    tls = ssl.create_default_context(cafile=cafile)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None),
                                     headers={"Cookie": f"ippproxy_session={cookie}"},
                                     connector=aiohttp.TCPConnector(ssl=tls)) as session:
        opened = [asyncio.Event() for _ in range(clients)]
        tasks = [asyncio.create_task(one(k, session, opened[k])) for k in range(clients)]
        await asyncio.gather(*(o.wait() for o in opened))
        ready.write_text("ok")
        await stop.wait()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    print(json.dumps(got))


def run_once(proxy: IppProxy, document: bytes, jobs: int, concurrency: int, clients: int,
             tmp: Path, cookie: str) -> tuple[float, float, float, list[dict[str, int]]]:
    child = None
    if clients:
        ready = tmp / "ready"
        ready.unlink(missing_ok=True)
        child = subprocess.Popen(
            [sys.executable, __file__, "--listen", f"{proxy.https}/admin/events",
             "--clients", str(clients), "--ready", str(ready), "--cookie", cookie,
             "--cafile", str(proxy.cert)],
            stdout=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30
        while not ready.exists():
            assert time.monotonic() < deadline and child.poll() is None, "listeners failed"
            time.sleep(0.05)
    cpu0 = process_cpu(proxy.pid)
    listeners0 = process_cpu(child.pid if child is not None else None)
    result = asyncio.run(load(proxy.port, proxy.path(), proxy.uri(), document, jobs,
                              concurrency, f"ev{clients}"))
    assert not result.errors, result.errors
    # Let the pages read what is still on its way, then stop them.
    deadline = time.monotonic() + 60
    while count_jobs(proxy.port, proxy.path(), proxy.uri(), "not-completed") > 0:
        assert time.monotonic() < deadline, "the queue did not drain"
        time.sleep(0.2)
    time.sleep(3.0)               # the feed's poll interval and then some (both cases)
    cpu_ms = (process_cpu(proxy.pid) - cpu0) / jobs * 1000
    listeners_ms = (process_cpu(child.pid if child is not None else None)
                    - listeners0) / jobs * 1000
    got: list[dict[str, int]] = []
    if child is not None:
        child.send_signal(signal.SIGTERM)
        out, _ = child.communicate(timeout=30)
        got = json.loads(out.strip().splitlines()[-1])
    return result.rate, cpu_ms, listeners_ms, got


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--jobs", type=int, default=600)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--listen", help=argparse.SUPPRESS)
    ap.add_argument("--ready", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--cookie", help=argparse.SUPPRESS)
    ap.add_argument("--cafile", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.listen:
        asyncio.run(listen(args.listen, args.clients, args.ready, args.cookie, args.cafile))
        return 0
    with tempfile.TemporaryDirectory(prefix="bench-events-") as tmp_name:
        tmp = Path(tmp_name)
        document = make_pdf(tmp / "one.pdf", 1)
        proxy = IppProxy(tmp / "srv", queues=[{"name": "bench", "destination": "builtin"}],
                         forwarding={"poll_interval": 0.2}, log_level="warning")
        proxy.start()
        admin = form_login(register(proxy).https, "admin", first_password(proxy))
        assert admin.cookie is not None
        try:
            asyncio.run(load(proxy.port, proxy.path(), proxy.uri(), document, 100,
                             args.concurrency, "warm"))
            rates: dict[int, list[float]] = {0: [], args.clients: []}
            cpus: dict[int, list[float]] = {0: [], args.clients: []}
            for r in range(args.rounds):
                order = (0, args.clients) if r % 2 == 0 else (args.clients, 0)
                for clients in order:
                    rate, cpu, listeners, got = run_once(
                        proxy, document, args.jobs, args.concurrency, clients, tmp,
                        admin.cookie)
                    rates[clients].append(rate)
                    cpus[clients].append(cpu)
                    line = (f"round {r + 1}: {clients:3d} pages  {rate:7.1f} jobs/s  "
                            f"server CPU {cpu:5.2f} ms/job")
                    if got:
                        line += f"  listeners CPU {listeners:5.2f} ms/job"
                        received = sorted(g["received"] for g in got)
                        line += (f"   job-received per page: min {received[0]}, max "
                                 f"{received[-1]} of {args.jobs}; other events "
                                 f"{statistics.median(g['other'] for g in got):.0f}; "
                                 f"drop notices {sum(g['dropped'] for g in got)}")
                    print(line, flush=True)
        finally:
            proxy.stop()
    base = statistics.median(rates[0])
    loaded = statistics.median(rates[args.clients])
    slower = (base - loaded) / base * 100
    print(f"median: {base:.1f} jobs/s without pages, {loaded:.1f} with {args.clients} "
          f"({slower:+.1f} % slower; goal at most 5 %) on {os.cpu_count()} CPUs")
    cpu_base, cpu_loaded = statistics.median(cpus[0]), statistics.median(cpus[args.clients])
    print(f"server CPU per job (intake, forwarding and the events; steadier than jobs/s on "
          f"a shared machine): {cpu_base:.2f} ms without pages, {cpu_loaded:.2f} ms with "
          f"{args.clients} ({(cpu_loaded - cpu_base) / cpu_base * 100:+.1f} %)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
