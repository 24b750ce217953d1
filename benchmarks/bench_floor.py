"""The floor under ippproxy's intake: what the HTTP server and the IPP codec cost alone.

    .venv/bin/python benchmarks/bench_floor.py [--jobs 6000] [--concurrency 8] [--rounds 3]

The same load as ``bench_intake.py`` (its ``load``: eight clients, one connection each,
a Print-Job with the 1-page PDF, the next one sent when the answer is in) against four
servers, in turn, ``--rounds`` times:

- ``aiohttp``: a bare aiohttp application on uvloop, as ippproxy runs it, whose one
  handler reads the body and answers a Print-Job-sized response (the request-id read
  from the header's bytes, the response encoded with ippproxy's encoder);
- ``aiohttp+codec``: the same, with the request decoded by ippproxy's decoder;
- ``ippproxy``: the server itself, accounting off, its queue paused (intake only: every
  job is planned, spooled, created and committed durably, none is forwarded);
- ``ippproxy+acct``: the same with accounting on, as ``bench_intake.py`` has it (a cost
  model, users created on print): each job analysed, priced and reserved too.

For each: requests/s, the server's CPU per request (user + system, all its threads; not
its analysis workers, which are still running) and its event loop's thread's, median of
the rounds (range); then, on the event loop's thread, how much of ippproxy's time a job
the floor is. The gap between the floor and
ippproxy is the Python of ippproxy's own intake, which no change of HTTP framework would
remove.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import bench_intake as bi  # puts tests/ (support) on the path, as it runs it
from support.admin import master_authorization
from support.server import IppProxy

from ippproxy.config import load as load_config
from ippproxy.ipp import (
    Attribute,
    Group,
    JobState,
    Message,
    Operation,
    Status,
    Tag,
    decode,
    encode,
)
from testprinters.ports import free_port

PATH = "/printers/bench"


@dataclass(frozen=True)
class Run:
    rate: float       # requests/s
    cpu: float        # ms of the server's CPU a request, all its threads
    loop: float       # ms on a CPU of its main thread (the event loop) a request


def serve(port: int, mode: str) -> None:
    """The bare server (run in a process of its own by ``main``)."""
    import uvloop
    from aiohttp import web

    async def print_job(request: web.Request) -> web.Response:
        body = await request.read()
        # RFC 8010 §3.1.1: version (2 bytes), operation or status (2), request-id (4)
        rid = decode(body).request_id if mode == "codec" else int.from_bytes(body[4:8], "big")
        op = (Attribute.single("attributes-charset", Tag.CHARSET, "utf-8"),
              Attribute.single("attributes-natural-language", Tag.NATURAL_LANGUAGE, "en"))
        job = (Attribute.single("job-id", Tag.INTEGER, rid),
               Attribute.single("job-uri", Tag.URI, f"ipp://127.0.0.1:{port}/jobs/{rid}"),
               Attribute.single("job-state", Tag.ENUM, int(JobState.PENDING)),
               Attribute.single("job-state-reasons", Tag.KEYWORD, "none"))
        out = encode(Message((2, 0), int(Status.SUCCESSFUL_OK), rid,
                             (Group(Tag.OPERATION_ATTRIBUTES, op),
                              Group(Tag.JOB_ATTRIBUTES, job))))
        return web.Response(body=out, content_type="application/ipp")

    app = web.Application()
    app.router.add_post(PATH, print_job)
    uvloop.install()
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def measure(port: int, pid: int, path: str, uri: str, doc: bytes, jobs: int,
            c: int) -> Run:
    """One run, after a warm-up."""
    asyncio.run(bi.load(port, path, uri, doc, min(300, jobs), c, "warm"))
    bi.wait_quiet()
    c0, t0 = bi.process_cpu(pid), bi.thread_sched(pid)
    r = asyncio.run(bi.load(port, path, uri, doc, jobs, c, "floor"))
    c1, t1 = bi.process_cpu(pid), bi.thread_sched(pid)
    if r.errors or r.ok != jobs:
        raise SystemExit(f"{uri}: {r.ok} of {jobs} answered, errors {r.errors}")
    loop = t1.get("main", (0.0, 0.0, 0))[0] - t0.get("main", (0.0, 0.0, 0))[0]
    return Run(r.rate, r.per_job(c1 - c0), r.per_job(loop))


def bare(mode: str, doc: bytes, jobs: int, c: int) -> Run:
    port = free_port()
    proc = subprocess.Popen([sys.executable, __file__, "--serve", str(port), mode])
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                bi.ipp_simple(port, PATH, f"ipp://127.0.0.1:{port}{PATH}",
                              Operation.GET_PRINTER_ATTRIBUTES)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        return measure(port, proc.pid, PATH, f"ipp://127.0.0.1:{port}{PATH}", doc, jobs, c)
    finally:
        proc.terminate()
        proc.wait()


def ippproxy(tmp: Path, doc: bytes, jobs: int, c: int, accounting: bool) -> Run:
    # Nothing listens on the destination: the queue is paused before any job arrives.
    queue = {"name": "bench", "destination": "ipp://127.0.0.1:9/ipp/print"}
    if accounting:
        queue["cost_model"] = "bench"
    proxy = IppProxy(tmp, queues=[queue], server=dict(bi.SERVER))
    if accounting:   # as bench_intake's: a cost model, users created on print
        proxy.config_path.write_text(proxy.config_path.read_text() + bi.ACCOUNTING)
    proxy.start()
    try:
        admin = asyncio.run(master_authorization(load_config(proxy.config_path)))
        reply = bi.ipp_simple(proxy.port, proxy.path("bench"), proxy.uri("bench"),
                              Operation.PAUSE_PRINTER, authorization=admin)
        if reply.code != Status.SUCCESSFUL_OK:
            raise SystemExit(f"Pause-Printer: status 0x{reply.code:04x}")
        return measure(proxy.port, proxy.pid, proxy.path("bench"), proxy.uri("bench"),
                       doc, jobs, c)
    finally:
        proxy.stop()


def line(name: str, runs: list[Run]) -> str:
    rates, cpu, loop = ([r.rate for r in runs], [r.cpu for r in runs],
                        [r.loop for r in runs])
    return (f"  {name:14} {statistics.median(rates):8.1f} requests/s ({min(rates):.0f}-"
            f"{max(rates):.0f})  server CPU {statistics.median(cpu):.3f} ms a request "
            f"({min(cpu):.3f}-{max(cpu):.3f}), its event loop's thread "
            f"{statistics.median(loop):.3f} ({min(loop):.3f}-{max(loop):.3f})")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--jobs", type=int, default=6000, help="requests per run")
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--serve", nargs=2, metavar=("PORT", "MODE"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        serve(int(args.serve[0]), args.serve[1])
        return 0
    with tempfile.TemporaryDirectory(prefix="bench-floor-") as d:
        tmp = Path(d)
        doc = bi.make_pdf(tmp / "p1.pdf", 1)
        runs: dict[str, list[Run]] = {"aiohttp": [], "aiohttp+codec": [], "ippproxy": [],
                                      "ippproxy+acct": []}
        for k in range(args.rounds):
            runs["aiohttp"].append(bare("raw", doc, args.jobs, args.concurrency))
            runs["aiohttp+codec"].append(bare("codec", doc, args.jobs, args.concurrency))
            runs["ippproxy"].append(ippproxy(tmp / f"proxy-{k}", doc, args.jobs,
                                             args.concurrency, False))
            runs["ippproxy+acct"].append(ippproxy(tmp / f"acct-{k}", doc, args.jobs,
                                                  args.concurrency, True))
        print(f"1-page PDF ({len(doc)} bytes), {args.jobs} Print-Jobs a run at "
              f"c={args.concurrency}, {args.rounds} rounds; ippproxy with accounting off "
              f"and on, its queue paused (intake only, durable)")
        for name, r in runs.items():
            print(line(name, r))
        floor = statistics.median(r.loop for r in runs["aiohttp+codec"])
        for name in ("ippproxy", "ippproxy+acct"):
            ours = statistics.median(r.loop for r in runs[name])
            print(f"{name}: on the event loop's thread, the floor (aiohttp+codec) is "
                  f"{floor / ours:.0%} of its time a job; its own intake {ours - floor:.3f} "
                  f"ms a job")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
