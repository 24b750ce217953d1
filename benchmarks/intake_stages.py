"""Where a job's time goes at intake with accounting on: bench_intake's stage table.

The server does not report per-job timings, so the stages are timed here, in this
process, on the same documents, with the same pieces the server builds from the same
configuration (``pipeline.runtime.make_pool`` and ``make_accounting``) and at the same
concurrency:

* the analysis through an ``AnalysisPool``: every ``DocumentAnalysis`` carries its stage
  timings (filters/model.py STAGES): ``queue`` (waiting for an idle worker), ``ipc`` (the
  pipe round trip minus the time inside the worker), ``request`` (decoding it there),
  ``open``, ``count``, ``scan`` (pdfscan.py), ``write`` and ``render`` (Ghostscript, only
  for pages the content scan cannot prove gray). Two roads: ``memory`` is what the server
  does for a small document held in memory (the bytes sent to the worker:
  ``AnalysisPool.analyse_bytes``), ``file`` what it did before (written to an unsynced
  spool file, analysed by path: the ``spool file`` stage), kept for comparison;
* the ledger on a SQLite file like the server's (WAL, synchronous=FULL): the user lookup
  the intake makes (a read snapshot), ``reserve`` (one write transaction: the debit and
  the charge row) and ``settle`` (one more, when the job has printed), for users created
  on their first print.

Each stage prints its median and 90th percentile in ms per job; ``rest`` is the
accounting-on run's median latency minus the medians of the stages a job passes before
its answer (``settle`` comes after printing): HTTP, IPP decoding, the spool, the
policies, the job store's group commit, forwarding beside it, the event loop.
"""

from __future__ import annotations

import asyncio
import io
import os
import statistics
import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

import pikepdf

from ippproxy.accounting import AccountingService, JobCounts, MediaCount
from ippproxy.config import Config
from ippproxy.db import make_engine, upgrade
from ippproxy.filters.model import STAGES, DocumentAnalysis
from ippproxy.filters.pool import AnalysisPool
from ippproxy.pipeline.runtime import make_accounting, make_pool

Samples = dict[str, list[float]]   # stage -> seconds per job


def colour_image_pdf() -> bytes:
    """One A4 page: a line of black text and a small RGB photo-like image (the content
    scan cannot prove an RGB image gray, so Ghostscript renders the page)."""
    doc = pikepdf.new()
    pixels = bytes((x * 7 + y * 3) % 256 for y in range(64) for x in range(64 * 3))
    image = pikepdf.Stream(doc, pixels, Type=pikepdf.Name.XObject,
                           Subtype=pikepdf.Name.Image, Width=64, Height=64,
                           ColorSpace=pikepdf.Name.DeviceRGB, BitsPerComponent=8)
    font = pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1,
                              BaseFont=pikepdf.Name.Helvetica)
    ops = b"0 g BT /F1 18 Tf 72 760 Td (Benchmark photo) Tj ET q 200 0 0 200 72 500 cm /Im1 Do Q"
    doc.pages.append(pikepdf.Page(pikepdf.Dictionary(
        Type=pikepdf.Name.Page, MediaBox=[0, 0, 595.28, 841.89],
        Resources=pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font),
                                     XObject=pikepdf.Dictionary(Im1=image)),
        Contents=pikepdf.Stream(doc, ops))))
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _add(samples: Samples, a: DocumentAnalysis) -> None:
    for name, seconds in a.stages:
        samples.setdefault(name, []).append(seconds)


async def analysis_samples(pool: AnalysisPool, document: bytes, jobs: int, concurrency: int,
                           spool: Path, from_memory: bool) -> Samples:
    """``jobs`` analyses of ``document``, ``concurrency`` at a time, by one road."""
    samples: Samples = {}
    todo = iter(range(jobs))

    async def client() -> None:
        for n in todo:
            t0 = time.perf_counter()
            if from_memory:
                a = await pool.analyse_bytes(document, "application/pdf")
            else:
                path = spool / f"{os.getpid()}-{n}"
                await asyncio.to_thread(path.write_bytes, document)   # unsynced, as the server
                samples.setdefault("spool file", []).append(time.perf_counter() - t0)
                a = await pool.analyse(path, "application/pdf")
                path.unlink()
            samples.setdefault("analysis (wall)", []).append(time.perf_counter() - t0)
            _add(samples, a)

    t0 = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    samples[THROUGHPUT] = [(time.perf_counter() - t0) / jobs]
    return samples


async def pool_samples(config: Config, document: bytes, jobs: int, concurrency: int,
                       spool: Path) -> dict[str, Samples]:
    """Both roads with the server's pool settings, the memory road first and last (the
    machine drifts): ``{"file": ..., "memory": ...}``."""
    out: dict[str, Samples] = {}
    async with make_pool(config) as pool:
        await analysis_samples(pool, document, min(jobs, 10), concurrency, spool, True)
        for road in ("memory", "file", "memory"):
            got = await analysis_samples(pool, document, jobs // 2, concurrency, spool,
                                         road == "memory")
            for k, v in got.items():
                out.setdefault(road, {}).setdefault(k, []).extend(v)
    return out


def ledger_samples(config: Config, directory: Path, queue: str, jobs: int,
                   concurrency: int, users: int) -> Samples:
    """``jobs`` reserve + settle pairs from ``concurrency`` threads on a fresh SQLite
    file, for ``users`` users created on their first print."""
    engine = make_engine(f"sqlite:///{directory / f'ledger-{uuid.uuid4().hex}.db'}")
    upgrade(engine)
    accounting: AccountingService = make_accounting(config, engine)
    counts = JobCounts((MediaCount("iso_a4_210x297mm", 1, 0, 1),))
    samples: Samples = {}
    lock = threading.Lock()
    todo = iter(range(jobs))

    def timed(stage: str, t0: float) -> float:
        t1 = time.perf_counter()
        with lock:
            samples.setdefault(stage, []).append(t1 - t0)
        return t1

    def client() -> None:
        for n in todo:
            user = f"ledger-{n % users}"
            t0 = time.perf_counter()
            accounting.live_groups(user)
            t0 = timed("user lookup", t0)
            job = uuid.uuid4()
            accounting.reserve(job, username=user, printer=queue, counts=counts)
            t0 = timed("reserve", t0)
            accounting.settle(job, impressions=1)
            timed("settle", t0)

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    samples[THROUGHPUT] = [(time.perf_counter() - t0) / jobs]
    engine.dispose()
    return samples


def _ms(xs: Sequence[float], p: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))] * 1000


# Wall time of the whole run over its jobs: what one job costs at this concurrency (the
# stages above it are latencies, which overlap).
THROUGHPUT = "wall / jobs"
ORDER = ("spool file", *STAGES, "analysis (wall)", "user lookup", "reserve", "settle",
         THROUGHPUT)
HAND_OFF = ("queue", "ipc", "request")          # analysis time not spent analysing
LEDGER = ("user lookup", "reserve", "settle")


def table(title: str, samples: Samples, latency_p50: float | None) -> list[str]:
    """One stage a line: median and p90, ms per job; the 2 ms rule on the hand-off and the
    ledger (issue 12); ``rest`` when the run's median latency is given."""
    lines = [f"  {title}", f"    {'stage':16} {'median':>8} {'p90':>8}   (ms per job)"]
    total = 0.0
    for stage in ORDER:
        xs = samples.get(stage)
        if not xs:
            continue
        flag = "  > 2 ms" if (stage in LEDGER or stage == "ipc") and _ms(xs, 50) > 2 else ""
        if stage == THROUGHPUT:
            lines.append(f"    {stage:16} {_ms(xs, 50):8.2f}")
            continue
        lines.append(f"    {stage:16} {_ms(xs, 50):8.2f} {_ms(xs, 90):8.2f}{flag}")
        if stage not in ("analysis (wall)", "settle"):   # settle: after printing
            total += statistics.median(xs) * 1000
    if latency_p50 is not None:
        lines.append(f"    {'rest':16} {latency_p50 - total:8.2f}"
                     f"            (run's p50 latency {latency_p50:.1f} ms - stages)")
    return lines
