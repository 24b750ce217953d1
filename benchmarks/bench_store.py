"""Durable job intake through the spool and the job store, on SQLite (or PostgreSQL).

Each "job" is what a Print-Job costs before ``successful-ok``: a one-page-sized
document streamed into the spool (fsync of file and directory, or, "spool copy", no
fsync and a copy committed with the job) and a create_job committed by the
group-commit writer. Prints jobs/s, latency percentiles and the
group-commit factor (jobs per COMMIT) at several concurrencies, and the CPU time
per job (user and system time of this process), which does not depend on how busy the
machine is: 1000 / (CPU ms/job) bounds jobs/s on one core. Also the bytes this process
wrote per job (``wchar`` of ``/proc/self/io``: WAL frames, checkpoints, spool files), which
shows what the layout of the keys costs (see ``jobs/ids.py``). ``--history N`` first
stores N jobs, as a server that keeps its job history has them. ``--postgresql`` runs
the same on a throwaway PostgreSQL cluster (tests/support/postgres.py) started durable:
fsync and synchronous_commit on, so its figures include each COMMIT's disk flush.

    .venv/bin/python benchmarks/bench_store.py [--jobs 2000] [--size 24000] [--history 0]
        [--postgresql] [--checkpoint thread|commit|both] [--modes spool copy store]

On SQLite the log is checkpointed as the server does it, by a thread of its own
(``db/checkpoint.py``); ``--checkpoint commit`` leaves it to SQLite's automatic
checkpoint in the committing writer thread, ``both`` runs each line both ways.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from support.postgres import PostgresCluster, start_cluster

from ippproxy.db import Checkpointer, make_engine, upgrade
from ippproxy.jobs.records import NewDocument
from ippproxy.jobs.spool import Spool
from ippproxy.jobs.store import JobStore


def written() -> int:
    """Bytes this process has passed to write(2) and friends so far."""
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("wchar:"):
            return int(line.split()[1])
    return 0


async def run(concurrency: int, jobs: int, size: int, with_spool: bool, copy: bool = False,
              history: int = 0, cluster: PostgresCluster | None = None,
              checkpoint: str = "thread") -> str:
    with tempfile.TemporaryDirectory(prefix="bench-store-") as tmp:
        url = (cluster.create_database() if cluster is not None
               else f"sqlite:///{Path(tmp) / 'jobs.sqlite'}")
        engine = make_engine(url)
        upgrade(engine)
        # As the server: SQLite's log checkpointed by a thread of its own (db/checkpoint.py),
        # or ("commit") by SQLite's automatic checkpoint, in the committing writer thread.
        checkpointer = Checkpointer(engine) if checkpoint == "thread" else None
        if checkpointer is not None:
            checkpointer.start()
        spool = Spool(Path(tmp) / "spool", 64 << 20, copy_max=65536)
        page = os.urandom(size)
        latencies: list[float] = []
        todo = iter(range(jobs))
        async with JobStore(engine) as store:

            async def one(i: int) -> None:
                t0 = time.perf_counter()
                docs = []
                if with_spool:
                    async with spool.writer(copy=copy) as w:
                        await w.write(page)
                    docs = [NewDocument(w.name, w.size, w.sha256, "application/pdf",
                                        content=w.content)]
                await store.create_job(
                    "default",
                    owner=f"user{i % 50}",
                    name=f"job {i}",
                    documents=docs,
                    attributes=b"\x02" + bytes(200),
                    document_format="application/pdf",
                )
                latencies.append(time.perf_counter() - t0)

            async def client() -> None:
                for i in todo:
                    await one(i)

            if history:
                todo = iter(range(history))
                await asyncio.gather(*(client() for _ in range(32)))
                todo = iter(range(jobs))
                latencies.clear()
            before = store.stats()
            start, t0, w0 = time.perf_counter(), os.times(), written()
            await asyncio.gather(*(client() for _ in range(concurrency)))
            elapsed = time.perf_counter() - start
            t1, w1 = os.times(), written()
            user, system = t1.user - t0.user, t1.system - t0.system
            after = store.stats()
            batches, ops = after.batches - before.batches, after.ops - before.ops
        if checkpointer is not None:
            checkpointer.close()
        engine.dispose()
    latencies.sort()
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    return (
        f"{('spool copy+store' if copy else 'spool+store') if with_spool else 'store only':16}"
        f" c={concurrency:<3} {'' if cluster is not None else 'checkpoint ' + checkpoint + ' '}"
        f"{jobs / elapsed:8.0f} jobs/s   p50 {p50:6.2f} ms   p99 {p99:6.2f} ms   "
        f"{ops / max(batches, 1):5.1f} jobs/commit   CPU/job {user / jobs * 1000:4.2f} ms user "
        f"+ {system / jobs * 1000:4.2f} ms sys   {(w1 - w0) / jobs / 1024:5.1f} KiB written/job"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--jobs", type=int, default=2000)
    ap.add_argument("--size", type=int, default=24_000, help="document bytes (a 1-page PDF)")
    ap.add_argument("--concurrency", type=int, nargs="*", default=[1, 8, 32])
    ap.add_argument("--history", type=int, default=0,
                    help="jobs stored before each measured run")
    ap.add_argument("--checkpoint", choices=("thread", "commit", "both"), default="thread",
                    help="SQLite: the log checkpointed by a thread of its own (as the server), "
                         "by the committing writer (SQLite's automatic checkpoint), or both, "
                         "alternating")
    ap.add_argument("--modes", nargs="*", default=["spool", "copy", "store"],
                    choices=("spool", "copy", "store"),
                    help="fsync'd spool file + store, spool copy + store, store only")
    ap.add_argument("--postgresql", action="store_true",
                    help="a throwaway PostgreSQL cluster with fsync on instead of SQLite")
    args = ap.parse_args()
    cluster = start_cluster(durable=True) if args.postgresql else None
    kind = ("PostgreSQL (fsync, synchronous_commit on)" if cluster is not None
            else "SQLite (WAL, synchronous=FULL)")
    print(f"durable create_job on {kind}, {args.jobs} jobs each"
          + (f", after {args.history} jobs of history" if args.history else ""))
    try:
        # fsync'd spool file; small document copied into the job's commit (jobs/spool.py);
        # none.
        checkpoints = ["thread", "commit"] if args.checkpoint == "both" else [args.checkpoint]
        modes = {"spool": (True, False), "copy": (True, True), "store": (False, False)}
        for mode in args.modes:
            with_spool, copy = modes[mode]
            for c in args.concurrency:
                for checkpoint in checkpoints if cluster is None else ["-"]:
                    print(asyncio.run(run(c, args.jobs, args.size, with_spool, copy,
                                          args.history, cluster, checkpoint)), flush=True)
    finally:
        if cluster is not None:
            cluster.stop()
            shutil.rmtree(cluster.root, ignore_errors=True)


if __name__ == "__main__":
    main()
