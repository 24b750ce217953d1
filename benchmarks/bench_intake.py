"""Intake throughput: Print-Job jobs/s, p50, p99 and max latency, ippproxy against a private cupsd.

    .venv/bin/python benchmarks/bench_intake.py [--jobs-1 300] [--jobs-100 60] [--paused]
        [--concurrency 1 8 32] [--rounds 1] [--slices 1] [--accounting off|on|both]
        [--stage-jobs 60] [--printer eve|builtin] [--workers 1]
    .venv/bin/python benchmarks/bench_intake.py --ledger-only 1200 --concurrency 8

Theory of operation. Two servers run side by side on loopback, both started here:
* ``ippproxy serve`` (the real command, tests/support/server.py) with one queue forwarding to
  an ``ippeveprinter -c /bin/true`` of its own, the printer cupsd's queue has (like for
  like: each server pays the same printer, in a process of its own), or with
  ``--printer builtin`` to the built-in virtual printer, which runs inside the ippproxy
  process and counts the pages of every PDF it receives; every job it acknowledges is
  fsync'd and committed;
* the same with accounting on, the mode users run (``ippproxy+acct``): a cost model (per
  impression, mono and colour prices) on the queue, users created on their first print
  with a large opening balance; every document is analysed (pages, colour) in the
  analysis pool, priced and its charge reserved before the answer, and settled when
  the printer has printed it. Each load-generator connection prints as its own
  user, a new one each run, so every run creates users;
* a private ``cupsd`` (testprinters.cupsd) whose queue ``eve`` was made with ``lpadmin -m
  everywhere`` and points at an ``ippeveprinter -c /bin/true``; cupsd syncs nothing.
For each document (a 1-page and a 100-page PDF made with gs) and each concurrency (1, 8, 32)
a small asyncio load generator (below; codec-encoded Print-Job, HTTP/1.1 keep-alive,
Content-Length framing, one connection per worker) sends N jobs to each server, after a short
warm-up. Between runs ippproxy's queue drains (it forwards to its printer) and
cupsd's backlog is purged (``cancel -a -x``: its filters print only a few jobs/s). With
``--paused`` cupsd's backlog is purged after every run too: cupsd gets slower the more jobs
it holds (its CPU per job grows with them), ippproxy barely
does, and it keeps its jobs for the durability check. A job counts when the answer
is successful-ok with a job-id. Each run also prints the CPU time per job of the server
process (with the children it reaped), of its helpers (the child processes still running:
ippproxy's analysis workers, busy only with accounting on; cupsd's filters are reaped, so
in its own figure) and of this load generator (from /proc and os.times): on a shared machine jobs/s
moves with the neighbours' load, CPU per job much less, and the load generator's share
shows it is not the bottleneck; and the bytes per job the server sent to the disk
(``write_bytes`` of /proc/PID/io), which the neighbours do not move at all; and, per job,
the server's threads' time on a CPU, time runnable but waiting for one, and times switched
in (their schedstat), the main thread (the event loop) apart from the others; and for
ippproxy its own time per stage and per part of the analysis, its garbage collections
by generation, how many and how long they stopped the process, and its job store's
writer: writes per batch (one COMMIT), a batch's and a sync's mean time (its /metrics). With
``--paused`` both queues are stopped (Pause-Printer,
cupsdisable) so only intake is measured.

``--workers N`` runs ippproxy with ``server.workers = N`` (supervisor.py: N processes on
the one port, each a node on the shared database and spool). The server process is then
the supervisor, which does no work itself: the workers' CPU is in the helpers' figure.
The kill -9 of the durability check below kills the supervisor and every worker at once.

With accounting on, a third document goes to every server: a 1-page PDF with a colour
photo (intake_stages.colour_image_pdf; ``--jobs-photo``), whose colour the analysis must
decide from the image, and the accounting-on targets are printed (issue 19, c=8, median of
the rounds: ippproxy+acct at least 0.5x cupsd for the 1-page PDF and 0.25x for the photo).

At the end ippproxy is killed with SIGKILL and restarted, and Get-Jobs which-jobs=all must
list every job it acknowledged: "every acknowledged job durable". The figures are printed,
with the ratio ippproxy/cupsd for accounting off and on (targets, accounting off,
concurrency 8: at least 1.0 for the 1-page PDF and 0.9 for the 100-page one). On a shared
machine both servers' speed drifts between runs (cupsd's CPU per job most):
``--rounds N`` repeats the matrix, alternating which server goes first, and reports the
median of the per-round ratios with their range. A round takes a minute, and the speed can
change within it (even between two consecutive runs), so
``--slices K`` cuts each run into K slices and alternates the servers slice by slice (A B B
A A B ...): both then sample the same moments of the machine, and each server's figures are
those of its K slices together.

With accounting on, a table then shows where a job's time goes at intake, stage by stage
(median and 90th percentile, ms per job: the worker hand-off, opening the PDF, the content
scan, a Ghostscript render, the ledger transactions, the rest), timed in this process
with the server's own pieces and configuration (intake_stages.py), for the benchmark's
documents and a 1-page PDF with a colour photo (which needs a render), both for the road
the server takes (the bytes in memory sent to the worker, ``AnalysisPool.analyse_bytes``)
and, for comparison, the former one (an unsynced spool file analysed by path).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import shutil
import signal
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

import intake_stages
from prometheus_client.parser import text_string_to_metric_families
from support.admin import master_authorization
from support.server import IppProxy

from ippproxy.config import load as load_config
from ippproxy.filters.model import STAGES as ANALYSIS_STAGES
from ippproxy.ipp import Attribute, Group, Message, Operation, Tag, decode, encode
from ippproxy.pipeline.stages import STAGES
from testprinters.cupsd import PrivateCupsd
from testprinters.dbus import PrivateDBus
from testprinters.eve import EvePrinter

CONCURRENCY = (1, 8, 32)
PRINTER_COMMAND = "/bin/true"  # what both ippeveprinters run per job: prints at once
PY_SPY = os.environ.get("PY_SPY") or shutil.which("py-spy") or "py-spy"
# Accounting on: a cost model on the queue, users created on print, paying.
ACCOUNTING = """
[accounting]
enabled = true
unknown_users = "create"
initial_balance = "1000000"
restricted = true
settle_interval = 5
[[cost_model]]
name = "bench"
mono = "0.10"
color = "0.50"
"""


# -- documents ---------------------------------------------------------------------------------
def make_pdf(path: Path, pages: int) -> bytes:
    """An N-page PDF written by Ghostscript (argv list, -dSAFER, no shell)."""
    program = (f"1 1 {pages} {{ /Helvetica findfont 24 scalefont setfont 72 720 moveto "
               f"(Benchmark page ) show 8 string cvs show showpage }} for")
    subprocess.run(["gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=pdfwrite",
                    f"-sOutputFile={path}", "-c", program], check=True)
    return path.read_bytes()


# -- load generator ----------------------------------------------------------------------------
def print_job_header(uri: str, request_id: int, name: str, user: str = "bench") -> bytes:
    attrs = (
        Attribute.single("attributes-charset", Tag.CHARSET, "utf-8"),
        Attribute.single("attributes-natural-language", Tag.NATURAL_LANGUAGE, "en"),
        Attribute.single("printer-uri", Tag.URI, uri),
        Attribute.single("requesting-user-name", Tag.NAME, user),
        Attribute.single("job-name", Tag.NAME, name),
        Attribute.single("document-format", Tag.MIME_MEDIA_TYPE, "application/pdf"),
    )
    return encode(Message((2, 0), Operation.PRINT_JOB, request_id,
                          (Group(Tag.OPERATION_ATTRIBUTES, attrs),)))


@dataclass
class RunResult:
    ok: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    server_cpu: float = float("nan")   # seconds of CPU (user + system) the server used
    # ... and its child processes that are still running (ippproxy's analysis workers and
    # their resident Ghostscript: a reaped child's CPU is in server_cpu already)
    helpers_cpu: float = float("nan")
    client_cpu: float = 0.0            # seconds of CPU this load generator used
    steal: float = float("nan")        # share of the machine's CPU time the hypervisor took
    server_written: float = float("nan")  # bytes the server sent to the disk (/proc/PID/io)
    # The server's own account of its Print-Jobs' stages (ippproxy only, from /metrics):
    # stage -> (jobs, seconds) observed during the run.
    stages: dict[str, tuple[float, float]] = field(default_factory=dict)
    # The server's threads during the run (thread_sched): "main" / "others" -> (seconds on
    # a CPU, seconds waiting for one, switches in).
    sched: dict[str, tuple[float, float, int]] = field(default_factory=dict)

    def per_job(self, seconds: float) -> float:
        return seconds / self.ok * 1000 if self.ok else float("nan")

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def pct(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        xs = sorted(self.latencies)
        return xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))] * 1000


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    while True:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.strip().lower(): v.strip()
                   for k, _, v in (line.partition(":") for line in lines[1:] if line)}
        if status != 100:
            break
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            body += await reader.readexactly(size + 2)
            if size == 0:
                return status, body
            body = body[:-2]
    return status, await reader.readexactly(int(headers.get("content-length", "0")))


async def load(port: int, path: str, uri: str, document: bytes, jobs: int,
               concurrency: int, label: str, users: Sequence[str] = ()) -> RunResult:
    """``concurrency`` connections (HTTP keep-alive) sending ``jobs`` Print-Jobs in all;
    connection k prints as ``users[k % len(users)]``, or without ``users`` as a user of its
    own for this run (created on print when accounting is on)."""
    result = RunResult()
    counter = iter(range(1, jobs + 1))
    run_id = uuid.uuid4().hex[:6]

    async def worker(k: int) -> None:
        user = users[k % len(users)] if users else f"{label}-{run_id}-u{k}"
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for n in counter:
                body = print_job_header(uri, n, f"{label}-{n}", user) + document
                request = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                           f"Content-Type: application/ipp\r\nContent-Length: {len(body)}\r\n"
                           f"\r\n").encode() + body
                t0 = time.perf_counter()
                writer.write(request)
                await writer.drain()
                status, reply = await _read_response(reader)
                latency = time.perf_counter() - t0
                if status != 200:
                    result.errors[f"HTTP {status}"] = result.errors.get(f"HTTP {status}", 0) + 1
                    continue
                msg = decode(reply)
                if msg.code < 0x100 and msg.get(Tag.JOB_ATTRIBUTES, "job-id") is not None:
                    result.ok += 1
                    result.latencies.append(latency)
                else:
                    key = f"IPP 0x{msg.code:04x}"
                    result.errors[key] = result.errors.get(key, 0) + 1
        finally:
            writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(worker(k) for k in range(concurrency)))
    result.seconds = time.perf_counter() - t0
    return result


def process_cpu(pid: int | None) -> float:
    """CPU seconds (user + system, with reaped children) of a process; nan if unknown."""
    if pid is None:
        return float("nan")
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    ticks = sum(int(fields[i]) for i in (11, 12, 13, 14))  # utime stime cutime cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def children_cpu(pid: int | None) -> float:
    """CPU seconds of the running descendants of a process (0 when it has none)."""
    if pid is None:
        return float("nan")
    total = 0.0
    for tasks in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            kids = [int(k) for k in tasks.read_text().split()]
        except OSError:
            continue
        for kid in kids:
            cpu = process_cpu(kid)
            if not math.isnan(cpu):    # it was still there
                total += cpu + children_cpu(kid)
    return total


def process_written(pid: int | None) -> float:
    """Bytes a process has caused to be written to the storage layer so far (``write_bytes``
    of /proc/PID/io: the database's log and checkpoints, spool files); nan if unknown."""
    if pid is None:
        return float("nan")
    try:
        for line in Path(f"/proc/{pid}/io").read_text().splitlines():
            if line.startswith("write_bytes:"):
                return float(line.split()[1])
    except OSError:
        pass
    return float("nan")


def thread_sched(pid: int | None) -> dict[str, tuple[float, float, int]]:
    """Per thread group, the main thread (its id is the pid) and all the others: seconds on
    a CPU, seconds runnable but waiting for one, and times switched in, from each thread's
    /proc/PID/task/TID/schedstat (a thread that ended meanwhile is missed); {} if unknown."""
    if pid is None:
        return {}
    out: dict[str, list[float]] = {}
    for stat in Path(f"/proc/{pid}/task").glob("*/schedstat"):
        try:
            run_ns, wait_ns, slices = (int(x) for x in stat.read_text().split())
        except (OSError, ValueError):
            continue
        group = out.setdefault("main" if stat.parent.name == str(pid) else "others",
                               [0.0, 0.0, 0])
        group[0] += run_ns / 1e9
        group[1] += wait_ns / 1e9
        group[2] += slices
    return {k: (v[0], v[1], int(v[2])) for k, v in out.items()}


def machine_cpu() -> tuple[int, int]:
    """(all ticks, steal ticks) of the machine so far, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(fields[:8]), fields[7]  # user nice system idle iowait irq softirq steal


def wait_quiet(limit: float = 0.15, timeout: float = 20.0) -> float:
    """Wait until the machine's busy share over half a second is under ``limit`` (the
    servers' start-up, a warm-up's forwarding and the previous run's stragglers are
    over), at most ``timeout`` seconds; returns the seconds waited. Each run then
    starts from the same quiet machine, whichever server it measures."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        a = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
        time.sleep(0.5)
        b = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
        d = [int(y) - int(x) for x, y in zip(a, b, strict=True)]
        total = sum(d[:8])
        if total and 1 - (d[3] + d[4]) / total < limit:  # idle + iowait
            break
    return time.monotonic() - t0


def measured_load(t: Target, document: bytes, jobs: int, c: int, label: str) -> RunResult:
    """One run, with the CPU time of the server and of this load generator, and the CPU
    time the hypervisor stole meanwhile (a virtual machine's speed drifts with it)."""
    before = t.stages()   # (outside the CPU measured: a scrape is not a job)
    spy = profiler(t, label)
    s0, c0, m0 = process_cpu(t.pid()), os.times(), machine_cpu()
    h0, w0, t0 = children_cpu(t.pid()), process_written(t.pid()), thread_sched(t.pid())
    r = asyncio.run(load(t.port, t.path, t.uri, document, jobs, c, label))
    stop_profiler(spy)
    s1, c1, m1 = process_cpu(t.pid()), os.times(), machine_cpu()
    t1 = thread_sched(t.pid())
    r.sched = {k: (v[0] - t0.get(k, (0.0, 0.0, 0))[0], v[1] - t0.get(k, (0.0, 0.0, 0))[1],
                   v[2] - t0.get(k, (0.0, 0.0, 0))[2]) for k, v in t1.items()}
    h1 = children_cpu(t.pid())
    after = t.stages()
    r.stages = {k: (after[k][0] - before.get(k, (0.0, 0.0))[0],
                    after[k][1] - before.get(k, (0.0, 0.0))[1]) for k in after}
    r.server_written = process_written(t.pid()) - w0
    r.server_cpu = s1 - s0
    r.helpers_cpu = max(0.0, h1 - h0)   # (a worker replaced meanwhile takes its CPU along)
    r.client_cpu = (c1.user + c1.system) - (c0.user + c0.system)
    r.steal = (m1[1] - m0[1]) / (m1[0] - m0[0]) if m1[0] > m0[0] else float("nan")
    return r


# -- servers ----------------------------------------------------------------------------------
def ipp_simple(port: int, path: str, uri: str, op: int, user: str = "root",
               extra: tuple[Attribute, ...] = (), authorization: str = "") -> Message:
    """One request; with ``authorization`` over TLS (credentials travel over TLS only)."""
    attrs = (
        Attribute.single("attributes-charset", Tag.CHARSET, "utf-8"),
        Attribute.single("attributes-natural-language", Tag.NATURAL_LANGUAGE, "en"),
        Attribute.single("printer-uri", Tag.URI, uri),
        Attribute.single("requesting-user-name", Tag.NAME, user), *extra)
    body = encode(Message((2, 0), op, 1, (Group(Tag.OPERATION_ATTRIBUTES, attrs),)))

    async def go() -> Message:
        tls = None
        if authorization:
            tls = ssl.create_default_context()
            tls.check_hostname, tls.verify_mode = False, ssl.CERT_NONE  # self-signed
        reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=tls)
        auth = f"Authorization: {authorization}\r\n" if authorization else ""
        writer.write((f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: "
                      f"application/ipp\r\n{auth}Content-Length: {len(body)}\r\n\r\n"
                      ).encode() + body)
        _, reply = await _read_response(reader)
        writer.close()
        return decode(reply)

    return asyncio.run(go())


def count_jobs(port: int, path: str, uri: str, which: str) -> int:
    msg = ipp_simple(port, path, uri, Operation.GET_JOBS, extra=(
        Attribute.single("which-jobs", Tag.KEYWORD, which),
        Attribute.single("my-jobs", Tag.BOOLEAN, False),
        Attribute.multi("requested-attributes", Tag.KEYWORD, ["job-id"])))
    return len(msg.groups_of(Tag.JOB_ATTRIBUTES))


def drain(port: int, path: str, uri: str, timeout: float) -> float:
    """Wait until no job is pending or processing; returns the seconds waited."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if count_jobs(port, path, uri, "not-completed") == 0:
            break
        # Not more often: Get-Jobs lists every job left, and this must not slow the drain.
        time.sleep(2.0)
    return time.monotonic() - t0


@dataclass
class Target:
    name: str
    port: int
    path: str
    uri: str
    # Brings the queue back to empty after a run, so runs do not pile up on each other.
    settle: Callable[[], None] = lambda: None
    # The server's process id, for its CPU time per job.
    pid: Callable[[], int | None] = lambda: None
    # Paused runs: brings the server back to where it started, if its speed depends on
    # how many jobs it holds (cupsd's does).
    reset: Callable[[], None] = lambda: None
    # The server's cumulative Print-Job stages, stage -> (jobs, seconds); {} if it has none.
    stages: Callable[[], dict[str, tuple[float, float]]] = dict
    # --profile: where py-spy writes the server's samples of each measured run (None: not).
    profile: Path | None = None


def profiler(t: Target, label: str) -> subprocess.Popen[bytes] | None:
    """``py-spy record`` of the server's threads while it runs (collapsed stacks, one file
    per run and server; idle threads left out), or None without --profile."""
    pid = t.pid()
    if t.profile is None or pid is None:
        return None
    out = t.profile / f"{label}-{t.name}.txt"
    return subprocess.Popen([PY_SPY, "record", "--pid", str(pid), "--format", "raw",
                             "--threads", "--nonblocking", "--rate", "250", "-o", str(out),
                             *os.environ.get("PY_SPY_ARGS", "").split()],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop_profiler(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is not None:
        proc.send_signal(signal.SIGINT)   # py-spy writes its file on SIGINT
        proc.wait(30)


def merge(parts: list[RunResult]) -> RunResult:
    """Several slices of one run as one result."""
    out = RunResult()
    for r in parts:
        out.ok += r.ok
        for k, v in r.errors.items():
            out.errors[k] = out.errors.get(k, 0) + v
        out.latencies += r.latencies
    out.seconds = sum(r.seconds for r in parts)
    out.server_cpu = sum(r.server_cpu for r in parts)
    out.helpers_cpu = sum(r.helpers_cpu for r in parts)
    out.client_cpu = sum(r.client_cpu for r in parts)
    out.steal = statistics.mean(r.steal for r in parts)
    out.server_written = sum(r.server_written for r in parts)
    for r in parts:
        for k, (n, secs) in r.stages.items():
            n0, secs0 = out.stages.get(k, (0.0, 0.0))
            out.stages[k] = (n0 + n, secs0 + secs)
    return out


def interleaved(targets: list[Target], document: bytes, jobs: int, c: int, label: str,
                slices: int, flip: bool) -> dict[str, RunResult]:
    """``jobs`` per target in ``slices`` slices, the targets alternating slice by slice."""
    parts: dict[str, list[RunResult]] = {t.name: [] for t in targets}
    size = max(1, jobs // slices)
    for i in range(slices):
        order = targets[::-1] if (i % 2 == 1) != flip else targets
        for t in order:
            n = size if i < slices - 1 else jobs - size * (slices - 1)
            parts[t.name].append(measured_load(t, document, n, c, f"{label}-s{i}"))
    return {name: merge(rs) for name, rs in parts.items()}


def run_matrix(targets: list[Target], docs: dict[str, tuple[bytes, int]], paused: bool,
               warm_ok: dict[str, int], concurrency: tuple[int, ...] = CONCURRENCY,
               flip: bool = False, slices: int = 1) -> dict[tuple[str, str, int], RunResult]:
    """Every run, printed as it ends; ``warm_ok`` counts acknowledged warm-up jobs per target.
    ``flip``: the second target goes first (rounds alternate, so neither always runs on
    the machine the other just left)."""
    results: dict[tuple[str, str, int], RunResult] = {}
    for doc_name, (document, jobs) in docs.items():
        for c in concurrency:
            runs: dict[str, RunResult] = {}
            if slices > 1:  # all targets at once, slice by slice (module docstring)
                for t in targets:
                    w = asyncio.run(load(t.port, t.path, t.uri, document, min(10, jobs), c,
                                         "warmup"))
                    warm_ok[t.name] = warm_ok.get(t.name, 0) + w.ok
                wait_quiet()
                runs = interleaved(targets, document, jobs, c, f"{doc_name}-c{c}", slices, flip)
            for t in (targets[::-1] if flip else targets):
                if t.name in runs:
                    r = runs[t.name]
                else:
                    w = asyncio.run(load(t.port, t.path, t.uri, document, min(10, jobs), c,
                                         "warmup"))
                    warm_ok[t.name] = warm_ok.get(t.name, 0) + w.ok
                    wait_quiet()
                    r = measured_load(t, document, jobs, c, f"{doc_name}-c{c}")
                results[(t.name, doc_name, c)] = r
                errors = f"  errors {r.errors}" if r.errors else ""
                print(f"  {t.name:13} {doc_name:8} c={c:<3} {r.ok:5} jobs  {r.rate:8.1f} jobs/s  "
                      f"p50 {r.pct(50):7.1f} ms  p99 {r.pct(99):7.1f} ms  max "
                      f"{r.pct(100):6.1f} ms  CPU/job server "
                      f"{r.per_job(r.server_cpu):5.2f} ms"
                      f" (+{r.per_job(r.helpers_cpu):4.2f} helpers), client"
                      f" {r.per_job(r.client_cpu):5.2f} ms"
                      f"  disk/job server {r.per_job(r.server_written) / 1e6:6.1f} KB"
                      f"  steal {r.steal:4.0%}{errors}", flush=True)
                if r.sched and r.ok:
                    print("  " + " " * 13 + "  threads per job, ms on a CPU / ms waiting for one"
                          " / switches in: " + "  ".join(
                              f"{k} {v[0] / r.ok * 1000:.2f} / {v[1] / r.ok * 1000:.2f} / "
                              f"{v[2] / r.ok:.1f}" for k, v in sorted(r.sched.items())),
                          flush=True)
                intake = {k: v for k, v in r.stages.items()
                          if not k.startswith((PART, GC, STORE))}
                parts = {k[len(PART):]: v for k, v in r.stages.items() if k.startswith(PART)}
                for title, got in (("the server's stages, mean ms per job", intake),
                                   ("within analyse, mean ms per document", parts)):
                    if any(v[0] for v in got.values()):
                        print("  " + " " * 13 + f"  {title}: " + "  ".join(
                            f"{k} {v[1] / v[0] * 1000:.2f}" for k, v in got.items() if v[0]),
                            flush=True)
                pauses = [r.stages.get(f"{GC}{g}", (0.0, 0.0)) for g in range(3)]
                if any(n for n, _ in pauses):
                    print("  " + " " * 13 + "  garbage collections during the run, number / ms "
                          "in all by generation: " + "  ".join(
                              f"{g} {n:.0f} / {s * 1000:.1f}" for g, (n, s) in enumerate(pauses)),
                          flush=True)
                writer = store_line(r.stages)
                if writer:
                    print("  " + " " * 13 + "  " + writer, flush=True)
                if not paused:
                    t.settle()
                else:
                    t.reset()
    return results


def proxy_target(proxy: IppProxy, name: str, drain_timeout: float) -> Target:
    path, uri = proxy.path("bench"), proxy.uri("bench")

    def settle() -> None:
        # ippproxy forwards its backlog to its printer: wait for it.
        if drain(proxy.port, path, uri, drain_timeout) >= drain_timeout:
            print(f"  ({name} still forwarding after {drain_timeout:.0f} s)")

    return Target(name, proxy.port, path, uri, settle,
                  lambda: proxy.pid if proxy.is_running() else None,
                  stages=lambda: server_stages(proxy.port))


# The server's analysis parts (``ippproxy_analysis_stage_duration_seconds``: the pool's
# queue and round trip, the worker's steps) among the stages, under this prefix.
PART = "analysis:"
ANALYSIS_FAMILY = "ippproxy_analysis_stage_duration_seconds"
# The garbage collector's pauses (``ippproxy_gc_pause_seconds``, server/heap.py) by
# generation, under this prefix: every thread of the server stops for them.
GC = "gc:"
GC_FAMILY = "ippproxy_gc_pause_seconds"
# The job store's writer (``ippproxy_store_*``, metrics.py): its batches (one COMMIT each)
# and syncs, (number, seconds), and its writes, (number, 0), under this prefix.
STORE = "store:"
STORE_FAMILIES = {"ippproxy_store_batch_seconds": "batch",
                  "ippproxy_store_sync_seconds": "sync", "ippproxy_store_writes": "writes"}


def store_line(stages: dict[str, tuple[float, float]]) -> str:
    """The writer during a run: writes a batch (jobs sharing a COMMIT, the forwarder's
    writes among them), a batch's and a sync's mean time; "" when the server has none."""
    batches, batch_s = stages.get(f"{STORE}batch", (0.0, 0.0))
    syncs, sync_s = stages.get(f"{STORE}sync", (0.0, 0.0))
    writes = stages.get(f"{STORE}writes", (0.0, 0.0))[0]
    if not batches:
        return ""
    line = (f"the job store's writer during the run: {batches:.0f} batches, {writes / batches:.1f}"
            f" writes and {batch_s / batches * 1000:.2f} ms a batch")
    if syncs:
        line += f", {syncs:.0f} syncs of the log, {sync_s / syncs * 1000:.2f} ms a sync"
    return line


def server_stages(port: int) -> dict[str, tuple[float, float]]:
    """The server's Print-Job stages so far (``ippproxy_intake_stage_duration_seconds``,
    pipeline/stages.py): stage -> (jobs, seconds), from its /metrics over TLS; each
    part of its analyses, ``PART + stage`` -> (documents, seconds); its garbage
    collections; and its writer's batches, syncs and writes (``STORE``)."""
    tls = ssl.create_default_context()
    tls.check_hostname, tls.verify_mode = False, ssl.CERT_NONE  # its self-signed certificate
    request = urllib.request.Request(f"https://127.0.0.1:{port}/metrics",
                                     headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    with urllib.request.urlopen(request, context=tls, timeout=10) as reply:
        text = reply.read().decode()
    found: dict[str, list[float]] = {}
    for family in text_string_to_metric_families(text):
        # Summed over the workers (--workers N; another worker's figures may be up to
        # server/metrics_share.PUBLISH_SECONDS old).
        if family.name in STORE_FAMILIES:
            for sample in family.samples:
                slot = {"_count": 0, "_sum": 1, "_total": 0}.get(sample.name[len(family.name):])
                if slot is not None:
                    found.setdefault(STORE + STORE_FAMILIES[family.name], [0.0, 0.0])[slot] += \
                        sample.value
            continue
        prefix = {"ippproxy_intake_stage_duration_seconds": "",
                  ANALYSIS_FAMILY: PART, GC_FAMILY: GC}.get(family.name)
        if prefix is None:
            continue
        for sample in family.samples:
            if not prefix and sample.labels.get("operation") != "Print-Job":
                continue
            slot = {"_count": 0, "_sum": 1}.get(sample.name[len(family.name):])
            if slot is not None:
                key = prefix + sample.labels["generation" if prefix == GC else "stage"]
                found.setdefault(key, [0.0, 0.0])[slot] = sample.value
    keys = (*STAGES, *(PART + k for k in ANALYSIS_STAGES), *(f"{GC}{g}" for g in range(3)),
            *(STORE + k for k in STORE_FAMILIES.values()))
    return {k: (found[k][0], found[k][1]) for k in keys if k in found}


def ratio_report(rounds: list[dict[tuple[str, str, int], RunResult]], names: list[str],
                 docs: list[str], concurrency: tuple[int, ...]) -> None:
    """Per ippproxy mode and document: the median over rounds of jobs/s against cupsd's."""
    def ratios(name: str, doc_name: str, c: int) -> list[float]:
        out = []
        for results in rounds:
            ours, theirs = results[(name, doc_name, c)], results[("cupsd", doc_name, c)]
            out.append(ours.rate / theirs.rate if theirs.rate else float("nan"))
        return out

    median = "median of the rounds' " if len(rounds) > 1 else ""
    print(f"\nratio ippproxy/cupsd ({median}jobs/s):")
    for name in names:
        for doc_name in docs:
            row = []
            for c in concurrency:
                rs = ratios(name, doc_name, c)
                spread = f" ({min(rs):.2f}-{max(rs):.2f})" if len(rs) > 1 else ""
                row.append(f"c={c}: {statistics.median(rs):5.2f}{spread}")
            print(f"  {name:13} {doc_name:8} " + "   ".join(row))
    if 8 not in concurrency:
        return
    print()
    for name in names:
        for doc_name, target in (("1-page", 1.0), ("100-page", 0.9)):
            if doc_name not in docs:
                continue
            rs = ratios(name, doc_name, 8)
            rate = statistics.median(r[(name, doc_name, 8)].rate for r in rounds)
            cups_rate = statistics.median(r[("cupsd", doc_name, 8)].rate for r in rounds)
            how = (f"median of {len(rounds)} rounds, {min(rs):.2f}-{max(rs):.2f}; "
                   if len(rounds) > 1 else "")
            verdict = ("MET" if statistics.median(rs) >= target else "NOT MET") \
                if name == "ippproxy" else "(accounting on: no target)"
            print(f"{name:13} {doc_name:8} c=8, target >= {target:.1f} x cupsd: ratio "
                  f"{statistics.median(rs):.2f} ({how}{rate:.1f} vs {cups_rate:.1f} jobs/s): "
                  f"{verdict}")


# Accounting on, c=8 (issue 19): ippproxy+acct against cupsd, median ratio of the rounds.
ACCOUNTING_TARGETS = (("1-page", 0.5), ("1-page photo", 0.25))


def accounting_targets(rounds: list[dict[tuple[str, str, int], RunResult]],
                       docs: list[str]) -> None:
    """The accounting-on targets: a one-page text PDF and a one-page PDF with a colour
    photo (analysed, priced and reserved before the answer), against cupsd at c=8."""
    for doc_name, target in ACCOUNTING_TARGETS:
        if doc_name not in docs or not all(("ippproxy+acct", doc_name, 8) in r for r in rounds):
            continue
        rs = [r[("ippproxy+acct", doc_name, 8)].rate / r[("cupsd", doc_name, 8)].rate
              if r[("cupsd", doc_name, 8)].rate else float("nan") for r in rounds]
        rate = statistics.median(r[("ippproxy+acct", doc_name, 8)].rate for r in rounds)
        cups_rate = statistics.median(r[("cupsd", doc_name, 8)].rate for r in rounds)
        spread = f"median of {len(rs)} rounds, {min(rs):.2f}-{max(rs):.2f}; " \
            if len(rs) > 1 else ""
        verdict = "MET" if statistics.median(rs) >= target else "NOT MET"
        print(f"ippproxy+acct {doc_name:12} c=8, accounting on, target >= {target:.2f} x cupsd: "
              f"ratio {statistics.median(rs):.2f} ({spread}{rate:.1f} vs {cups_rate:.1f} "
              f"jobs/s): {verdict}")


# Like cupsd's defaults (MaxJobsPerUser 0): a c=1 run sends 300 jobs as one user, which the
# default per-user cap of 200 jobs not yet completed would refuse (server-error-too-many-jobs).
# The token of /metrics, where the bench reads the server's own stage timings.
METRICS_TOKEN = "bench-intake-metrics-token"
SERVER = {"job_history_seconds": 86400, "max_jobs_per_user": 0,
          "metrics_token": METRICS_TOKEN}


def ledger_only(jobs: int, c: int, tmp: Path) -> None:
    """``--ledger-only N``: the accounting-on stage table's ledger line alone (no servers),
    with the CPU time per job of this process, which runs it."""
    proxy = IppProxy(tmp / "ledger-config", queues=[{"name": "bench", "cost_model": "bench"}])
    proxy.config_path.write_text(proxy.config_path.read_text() + ACCOUNTING)
    config = load_config(proxy.config_path)
    t0 = os.times()
    samples = intake_stages.ledger_samples(config, tmp, "bench", jobs, c, c)
    t1 = os.times()
    cpu = (t1.user + t1.system - t0.user - t0.system) / jobs * 1000
    for line in intake_stages.table(f"ledger on SQLite, {c} threads, users created on print, "
                                    f"{jobs} jobs; CPU {cpu:.2f} ms per job", samples, None):
        print(line)


def stage_report(proxy: IppProxy, docs: dict[str, tuple[bytes, int]], c: int, jobs: int,
                 latency: dict[str, float], tmp: Path) -> None:
    """Accounting on: the time per job by stage (intake_stages.py)."""
    config = load_config(proxy.config_path)
    spool = tmp / "stage-spool"
    spool.mkdir(exist_ok=True)
    documents = {name: data for name, (data, _) in docs.items()}
    documents["1-page photo"] = intake_stages.colour_image_pdf()
    print(f"\naccounting on: time per job by stage at c={c} ({jobs} jobs each; "
          f"{config.analysis.workers} analysis workers, as the server)")
    for name, data in documents.items():
        roads = asyncio.run(intake_stages.pool_samples(config, data, jobs, c, spool))
        for road, samples in roads.items():
            title = (f"{name} ({len(data)} bytes), "
                     + ("from a spool file (the former road)" if road == "file"
                        else "from memory (analyse_bytes, the server's road)"))
            for line in intake_stages.table(title, samples,
                                            latency.get(name) if road == "memory" else None):
                print(line)
    ledger = intake_stages.ledger_samples(config, tmp, "bench", jobs * 2, c, c)
    for line in intake_stages.table(f"ledger on SQLite (WAL; group commit, the log synced after the "
                                    f"COMMIT), {c} threads, "
                                    f"users created on print", ledger, None):
        print(line)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--jobs-1", type=int, default=300, help="jobs per run, 1-page PDF")
    ap.add_argument("--jobs-100", type=int, default=60, help="jobs per run, 100-page PDF")
    ap.add_argument("--paused", action="store_true", help="pause both queues: intake only")
    ap.add_argument("--concurrency", type=int, nargs="+", default=list(CONCURRENCY),
                    help="concurrencies to run (default: 1 8 32; 8 is the target's)")
    ap.add_argument("--rounds", type=int, default=1,
                    help="repeat the whole matrix, alternating which server goes first; "
                         "ratios are the median of the rounds' (the machine's speed drifts)")
    ap.add_argument("--slices", type=int, default=1,
                    help="cut each run into this many slices, alternating the servers "
                         "slice by slice (both see the same moments of the machine)")
    ap.add_argument("--accounting", choices=("off", "on", "both"), default="both",
                    help="ippproxy with accounting off, on (cost model, users created on "
                         "print), or both side by side (default)")
    ap.add_argument("--stage-jobs", type=int, default=60,
                    help="jobs per document for the accounting-on stage table (0: none)")
    ap.add_argument("--printer", choices=("eve", "builtin"), default="eve",
                    help="ippproxy's printer: an ippeveprinter like cupsd's (default, like "
                         "for like) or the built-in virtual printer (inside its process)")
    ap.add_argument("--drain-timeout", type=float, default=None,
                    help="seconds to wait for ippproxy's backlog to print between runs "
                         "(default: 120, or 0.2 s a job if more: an ippeveprinter takes "
                         "about a tenth of a second a job, one at a time)")
    ap.add_argument("--jobs-photo", type=int, default=None,
                    help="jobs per run, 1-page PDF with a colour photo (default: as "
                         "--jobs-1 with accounting on, else 0)")
    ap.add_argument("--log-level", default="warning")
    ap.add_argument("--workers", type=int, default=1,
                    help="ippproxy's server.workers (processes on the one port)")
    ap.add_argument("--profile", type=Path, default=None, metavar="DIR",
                    help="py-spy record of ippproxy during each measured run, into DIR "
                         "(collapsed stacks per thread; py-spy from $PY_SPY or PATH, more "
                         "arguments in $PY_SPY_ARGS, such as --gil)")
    ap.add_argument("--ledger-only", type=int, default=0, metavar="N",
                    help="only the ledger stage (reserve and settle from threads, at the "
                         "first --concurrency), N jobs, and its CPU per job; no servers")
    args = ap.parse_args()
    if args.ledger_only:
        with tempfile.TemporaryDirectory(prefix="bench-ledger-") as tmp_name:
            ledger_only(args.ledger_only, args.concurrency[0], Path(tmp_name))
        return 0

    with tempfile.TemporaryDirectory(prefix="bench-intake-") as tmp_name:
        tmp = Path(tmp_name)
        docs = {"1-page": (make_pdf(tmp / "p1.pdf", 1), args.jobs_1),
                "100-page": (make_pdf(tmp / "p100.pdf", 100), args.jobs_100)}
        photo_jobs = args.jobs_photo if args.jobs_photo is not None else \
            (args.jobs_1 if args.accounting != "off" else 0)
        docs["1-page photo"] = (intake_stages.colour_image_pdf(), photo_jobs)
        docs = {k: v for k, v in docs.items() if v[1] > 0}  # --jobs-100 0: 1-page only
        for name, (data, _) in docs.items():
            print(f"{name} PDF: {len(data)} bytes")
        dbus = PrivateDBus(tmp / "dbus").start()
        eve = EvePrinter("BenchEve", dbus=dbus, command=PRINTER_COMMAND)
        cupsd = PrivateCupsd(dbus=dbus)
        proxies: dict[str, IppProxy] = {}
        # Like for like: ippproxy's queue forwards to an ippeveprinter of its own, the
        # same program cupsd's queue prints to, or (--printer builtin) to the built-in
        # printer, which runs inside the ippproxy process and counts every PDF's pages.
        proxy_eve = EvePrinter("BenchEveProxy", dbus=dbus, command=PRINTER_COMMAND) \
            if args.printer == "eve" else None
        try:
            eve.start()
            if proxy_eve is not None:
                proxy_eve.start()
            queue: dict[str, str] = {"name": "bench"}
            server = {**SERVER, "workers": args.workers}
            if proxy_eve is not None:
                queue["destination"] = proxy_eve.uri
            # ippeveprinter takes a moment per job: without a short poll, the one-job-at-a-
            # time forwarder would need a second per job to drain the backlog between runs.
            forwarding = {"poll_interval": 0.05} if proxy_eve is not None else None
            if args.accounting in ("off", "both"):
                proxies["ippproxy"] = IppProxy(tmp / "proxy", queues=[queue],
                                               log_level=args.log_level, forwarding=forwarding,
                                               server=server)
            if args.accounting in ("on", "both"):
                acct = IppProxy(tmp / "proxy-acct", queues=[{**queue, "cost_model": "bench"}],
                                log_level=args.log_level, forwarding=forwarding,
                                server=server)
                acct.config_path.write_text(acct.config_path.read_text() + ACCOUNTING)
                proxies["ippproxy+acct"] = acct
            cupsd.start()
            cups_uri = cupsd.add_queue("eve", eve.uri)
            for proxy in proxies.values():
                proxy.start()

            def settle_cupsd() -> None:
                # cupsd runs filters per job (a few jobs/s): purge its backlog instead.
                cupsd.run("cancel", "-a", "-x", "eve", check=False)
                drain(cupsd.port, "/printers/eve", cups_uri, 60)

            drain_timeout = args.drain_timeout or max(
                120.0, 0.2 * (max(args.jobs_1, args.jobs_100) + 10))
            targets = [proxy_target(proxy, name, drain_timeout)
                       for name, proxy in proxies.items()]
            if args.profile is not None:
                args.profile.mkdir(parents=True, exist_ok=True)
                for t in targets:
                    t.profile = args.profile
            targets.append(Target("cupsd", cupsd.port, "/printers/eve", cups_uri, settle_cupsd,
                                  lambda: getattr(getattr(cupsd, "_proc", None), "pid", None),
                                  settle_cupsd))
            if args.paused:
                for name, proxy in proxies.items():
                    # An admin operation: the master admin, HTTP Basic over TLS.
                    admin = asyncio.run(master_authorization(load_config(proxy.config_path)))
                    reply = ipp_simple(proxy.port, proxy.path("bench"), proxy.uri("bench"),
                                       Operation.PAUSE_PRINTER, authorization=admin)
                    print(f"Pause-Printer on {name}: status 0x{reply.code:04x}")
                cupsd.run("cupsdisable", "eve")
            printer = (f"its own ippeveprinter -c {PRINTER_COMMAND}, like cupsd's: like for "
                       f"like" if proxy_eve is not None else
                       "the built-in printer, inside the ippproxy process: not like for like")
            print(", ".join(f"{name} {proxy.uri('bench')}" for name, proxy in proxies.items())
                  + f" ({printer}), cupsd {cups_uri} (ippeveprinter -c {PRINTER_COMMAND}); "
                  f"{'paused' if args.paused else 'printing'}")
            warm_ok: dict[str, int] = {}
            concurrency = tuple(args.concurrency)
            rounds = []
            for n in range(args.rounds):
                if args.rounds > 1:
                    print(f"round {n + 1} of {args.rounds}")
                rounds.append(run_matrix(targets, docs, args.paused, warm_ok, concurrency,
                                         flip=n % 2 == 1, slices=args.slices))

            print()
            for name, proxy in proxies.items():
                acknowledged = sum(r.ok for results in rounds
                                   for (who, _, _), r in results.items() if who == name)
                acknowledged += warm_ok.get(name, 0)
                proxy.kill9()
                proxy.start()
                listed = count_jobs(proxy.port, proxy.path("bench"), proxy.uri("bench"), "all")
                print(f"durability: {name} acknowledged {acknowledged} jobs (warm-ups "
                      f"included); after kill -9 and restart it lists {listed}: "
                      f"{'OK' if listed >= acknowledged else 'JOBS LOST'}")
            ratio_report(rounds, list(proxies), list(docs), concurrency)
            if "ippproxy+acct" in proxies and 8 in concurrency:
                accounting_targets(rounds, list(docs))
            if "ippproxy+acct" in proxies and args.stage_jobs > 0:
                c = 8 if 8 in concurrency else max(concurrency)
                latency = {doc: statistics.median(r[("ippproxy+acct", doc, c)].pct(50)
                                                  for r in rounds) for doc in docs}
                stage_report(proxies["ippproxy+acct"], docs, c, args.stage_jobs, latency, tmp)
            if statistics.mean([r.rate for res in rounds for r in res.values()]) == 0:
                return 1
        finally:
            for proxy in proxies.values():
                proxy.stop()
            cupsd.stop()
            eve.stop()
            if proxy_eve is not None:
                proxy_eve.stop()
            dbus.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
