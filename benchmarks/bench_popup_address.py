"""Identity popups by network address under load (issue 17 point 1): ``--clients`` user
clients connected, each from its own loopback address (127.1.x.y: its own computer), while
jobs sent without credentials to an ``authentication = "popup"`` queue arrive, each from
one client's address and with a made-up ``requesting-user-name`` (as Android sends its
model): the popup must reach the client at that address (services/nearby.py files the
streams by peer address, so delivery reads one entry, not every stream). Prints the
delivery latency (p50, p99; goal p99 within 1 s), popups missing or delivered to a client
at another address, and intake jobs/s against the same load to an ordinary queue.

    .venv/bin/python benchmarks/bench_popup_address.py [--clients 2000] [--jobs 400]
        [--concurrency 8] [--rounds 2]

One ``ippproxy serve`` (the real server) with accounting on: "plain" charges the named
user's personal account, "walkup" holds every job sent without credentials
``ippproxy-identity-needed`` (nothing is priced until someone proves who printed it).
Users and their sessions are made as bench_popups.py makes them. A separate process holds
one ``GET /api/v1/me/events`` stream per user over HTTPS, each bound to its own address,
and records each ``identity-needed`` popup; nobody answers (an answer is a password check,
argon2, which would time the hash, not the delivery). The load sends ``--jobs`` 1-page
PDF Print-Jobs over ``--concurrency`` workers, one connection per job from the address of
the next client (both queues alike: a computer sends its own job); to "plain" in the name
of that client's user, to "walkup" as "Pixel 7".
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
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_intake import _read_response, drain, make_pdf, print_job_header, process_cpu
from bench_popups import lift_fd_limit, pct, popups_seen, provision, sse_events
from support.server import IppProxy

from ippproxy.ipp import Tag, decode

CONFIG = """
[accounting]
enabled = true
unknown_users = "refuse"
settle_interval = 5
popup_timeout = 86400
[[cost_model]]
name = "bench"
mono = "0.10"
color = "0.50"
"""


def address(k: int) -> str:
    """Client ``k``'s computer: a loopback address of its own."""
    return f"127.1.{k // 250}.{k % 250 + 1}"


async def listen(base: str, sessions: Path, ready: Path, seen: Path, cafile: str) -> None:
    """One event stream per user from its own address; each identity popup's arrival
    written to ``seen`` as ``job-name time`` (``job-name`` ends in the client number it was
    sent from; a popup at another client is written ``stray``)."""
    import aiohttp

    lift_fd_limit()
    users = json.loads(sessions.read_text())
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    lines: list[str] = []
    counts = {"opened": 0, "popups": 0, "stray": 0, "broken": 0}
    gate = asyncio.Semaphore(64)     # TLS handshakes in flight while connecting
    tls = ssl.create_default_context(cafile=cafile)

    async def one(k: int, sid: str, opened: asyncio.Event) -> None:
        headers = {"Cookie": f"ippproxy_session={sid}"}
        connector = aiohttp.TCPConnector(ssl=tls, local_addr=(address(k), 0))
        async with aiohttp.ClientSession(connector=connector,
                                         timeout=aiohttp.ClientTimeout(total=None)) as s:
            try:
                async with gate:
                    resp = await s.get(f"{base}/api/v1/me/events", headers=headers)
                assert resp.status == 200, resp.status
                counts["opened"] += 1
                opened.set()
                async for now, popup in sse_events(resp.content, "identity-needed"):
                    counts["popups"] += 1
                    mine = str(popup["name"]).endswith(f"-from-{k}")
                    counts["stray"] += 0 if mine else 1
                    lines.append(f"{popup['name'] if mine else 'stray'} {now:.6f}\n")
            except (aiohttp.ClientError, AssertionError, OSError):
                counts["broken"] += 1
            finally:
                opened.set()

    async def flush() -> None:
        while True:
            await asyncio.sleep(0.2)
            if lines:
                with seen.open("a") as f:
                    f.writelines(lines)
                lines.clear()

    opened = [asyncio.Event() for _ in users]
    streams = [asyncio.create_task(one(k, sid, opened[k]))
               for k, (_n, sid, _csrf) in enumerate(users)]
    flusher = asyncio.create_task(flush())
    await asyncio.gather(*(o.wait() for o in opened))
    ready.write_text(json.dumps(counts))
    await stop.wait()
    for t in [*streams, flusher]:
        t.cancel()
    await asyncio.gather(*streams, flusher, return_exceptions=True)
    with seen.open("a") as f:
        f.writelines(lines)
    print(json.dumps(counts), flush=True)


async def load(port: int, queue: str, document: bytes, jobs: int, concurrency: int,
               users: list[str]) -> tuple[float, dict[str, tuple[float, float]], int]:
    """jobs/s, {job-name: (request start, answer read)} (time.time()), errors."""
    path, uri = f"/printers/{queue}", f"ipp://127.0.0.1:{port}/printers/{queue}"
    counter = iter(range(jobs))
    run = uuid.uuid4().hex[:6]
    times: dict[str, tuple[float, float]] = {}
    errors = 0

    async def worker() -> None:
        nonlocal errors
        for n in counter:
            k = n % len(users)
            name = f"{queue}-{run}-{n}-from-{k}"
            user = users[k] if queue == "plain" else "Pixel 7"
            body = print_job_header(uri, n + 1, name, user) + document
            request = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                       f"Content-Type: application/ipp\r\nContent-Length: {len(body)}\r\n"
                       f"Connection: close\r\n\r\n").encode() + body
            t0 = time.time()
            reader, writer = await asyncio.open_connection("127.0.0.1", port,
                                                           local_addr=(address(k), 0))
            try:
                writer.write(request)
                await writer.drain()
                status, reply = await _read_response(reader)
            finally:
                writer.close()
            msg = decode(reply) if status == 200 else None
            if msg is None or msg.code >= 0x100 or \
                    msg.get(Tag.JOB_ATTRIBUTES, "job-id") is None:
                errors += 1
                continue
            times[name] = (t0, time.time())

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return len(times) / (time.perf_counter() - t0), times, errors


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clients", type=int, default=2000)
    ap.add_argument("--jobs", type=int, default=400)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--listen", help=argparse.SUPPRESS)
    ap.add_argument("--sessions", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--ready", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--seen", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--cafile", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.listen:
        asyncio.run(listen(args.listen, args.sessions, args.ready, args.seen, args.cafile))
        return 0
    lift_fd_limit()
    with tempfile.TemporaryDirectory(prefix="bench-popup-address-") as tmp_name:
        tmp = Path(tmp_name)
        document = make_pdf(tmp / "one.pdf", 1)
        room = args.clients + 4 * args.concurrency + 100
        proxy = IppProxy(tmp / "srv", queues=[
            {"name": "plain", "destination": "builtin", "cost_model": "bench"},
            {"name": "walkup", "destination": "builtin", "cost_model": "bench",
             "authentication": "popup"}],
            # Held jobs count against the claimed name's cap on jobs not completed (200):
            # every job here claims "Pixel 7" and none is answered.
            server={"max_connections": room,
                    "max_jobs_per_user": args.jobs * args.rounds + 100},
            forwarding={"poll_interval": 0.2},
            log_level="warning")
        proxy.config_path.write_text(proxy.config_path.read_text() + CONFIG)
        proxy.start()
        child = None
        try:
            users = provision(f"sqlite:///{proxy.directory / 'ippproxy.db'}", args.clients)
            sessions, ready, seen = tmp / "sessions.json", tmp / "ready", tmp / "seen"
            sessions.write_text(json.dumps(users))
            t0 = time.monotonic()
            child = subprocess.Popen(
                [sys.executable, __file__, "--listen", proxy.https, "--sessions",
                 str(sessions), "--ready", str(ready), "--seen", str(seen),
                 "--cafile", str(proxy.cert)], stdout=subprocess.PIPE, text=True)
            deadline = time.monotonic() + 600
            while not ready.exists():
                assert time.monotonic() < deadline and child.poll() is None, "clients failed"
                time.sleep(0.2)
            opened = json.loads(ready.read_text())
            print(f"{opened['opened']} of {args.clients} clients connected, each from its "
                  f"own address, in {time.monotonic() - t0:.0f} s ({opened['broken']} "
                  "refused)", flush=True)
            names = [u for u, _, _ in users]
            asyncio.run(load(proxy.port, "plain", document, 100, args.concurrency, names))
            drain(proxy.port, "/printers/plain", proxy.uri("plain"), 120)
            rates: dict[str, list[float]] = {"plain": [], "walkup": []}
            delivery: list[float] = []
            missing = 0
            for r in range(args.rounds):
                for queue in (("plain", "walkup") if r % 2 == 0 else ("walkup", "plain")):
                    cpu0 = process_cpu(proxy.pid)
                    rate, times, errors = asyncio.run(load(
                        proxy.port, queue, document, args.jobs, args.concurrency, names))
                    cpu = (process_cpu(proxy.pid) - cpu0) / max(1, len(times)) * 1000
                    rates[queue].append(rate)
                    line = (f"round {r + 1}: {queue:6s} {rate:7.1f} jobs/s  {errors} errors  "
                            f"server CPU {cpu:5.2f} ms/job")
                    if queue == "plain":
                        waited = drain(proxy.port, "/printers/plain", proxy.uri("plain"), 300)
                        line += f" (then drained in {waited:.0f} s)"
                    else:
                        time.sleep(1.5)      # the clients' file is written every 0.2 s
                        got = popups_seen(seen)
                        lat = [max(0.0, got[n] - t[1]) for n, t in times.items() if n in got]
                        missing += len(times) - len(lat)
                        delivery += lat
                        line += (f"  popups {len(lat)}/{len(times)}: p50 "
                                 f"{pct(lat, 50) * 1000:.0f} ms, p99 {pct(lat, 99) * 1000:.0f}"
                                 f" ms after the answer")
                    print(line, flush=True)
        finally:
            if child is not None:
                child.send_signal(signal.SIGTERM)
                out, _ = child.communicate(timeout=120)
                print(f"clients: {out.strip().splitlines()[-1] if out.strip() else '?'}")
            proxy.stop()
    base, walk = statistics.median(rates["plain"]), statistics.median(rates["walkup"])
    print(f"identity popups by address with {args.clients} clients connected: p50 "
          f"{pct(delivery, 50) * 1000:.0f} ms, p99 {pct(delivery, 99) * 1000:.0f} ms after "
          f"the Print-Job's answer (goal p99 <= 1000 ms); {missing} missing")
    print(f"intake: {base:.1f} jobs/s to the plain queue, {walk:.1f} ({walk / base:.2f}x) to "
          f"the popup queue (held, nothing priced); {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
