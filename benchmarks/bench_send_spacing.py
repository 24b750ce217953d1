"""Forwarding send spacing: how far apart a queue's jobs start while intake runs, and not.

While job submissions are being received, a queue sends its next job only
``forwarding.send_interval_while_receiving`` seconds after its last one started
(ippproxy/forwarding/order.py); when intake is quiet it sends at once. The test suite
checks the order of these events (tests/forwarding/test_order.py); this prints the
seconds: the gaps between the ``processing_at`` times of N queued jobs, forwarded by a
real Forwarder (SQLite job store, spool) to the built-in virtual printer, once with
intake held "receiving" and once quiet.

    .venv/bin/python benchmarks/bench_send_spacing.py [--jobs 6] [--spacing 0.4]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import itertools
import statistics
import tempfile
from pathlib import Path

from ippproxy.config import Config, ForwardingConfig, QueueConfig
from ippproxy.db import make_engine, upgrade
from ippproxy.forwarding.worker import Forwarder
from ippproxy.ipp import Group, Message, Tag, encode
from ippproxy.jobs.records import NewDocument
from ippproxy.jobs.spool import Spool
from ippproxy.jobs.store import JobStore
from ippproxy.virtualprinter.printer import VirtualPrinter
from testprinters.documents import make_pdf


@dataclasses.dataclass(frozen=True)
class Run:
    receiving: bool
    gaps: list[float]  # seconds between consecutive send starts


async def run(receiving: bool, jobs: int, spacing: float, tmp: Path) -> Run:
    pdf = make_pdf(tmp / "one.pdf", 1).read_bytes()
    engine = make_engine(f"sqlite:///{tmp / f'jobs-{receiving}.sqlite'}")
    upgrade(engine)
    spool = Spool(tmp / f"spool-{receiving}", max_bytes=64 << 20)
    printer = await VirtualPrinter(control_port=None).start()
    config = Config(forwarding=ForwardingConfig(
        retry_initial=0.05, retry_max=0.2, poll_interval=0.02, attributes_ttl=60.0,
        connect_timeout=2.0, send_interval_while_receiving=spacing),
        queues=(QueueConfig(name="q", destination=printer.uri),))
    blob = encode(Message((2, 0), 0, 1, (Group(Tag.JOB_ATTRIBUTES, ()),)))
    try:
        async with JobStore(engine) as store:
            uuids = []
            for n in range(jobs):
                async with spool.writer() as w:
                    await w.write(pdf)
                doc = NewDocument(spool_name=w.name, size=w.size, sha256=w.sha256,
                                  format="application/pdf")
                rec = await store.create_job("q", owner="bench", name=f"job-{n}",
                                             attributes=blob, document_format="application/pdf",
                                             documents=[doc])
                uuids.append(rec.uuid)
            fwd = Forwarder(store, spool, config, receiving=lambda: receiving)
            await fwd.start()
            try:
                started = []
                for uuid in uuids:
                    while (rec := await store.get_by_uuid(uuid)) is None or not rec.is_terminal:
                        await asyncio.sleep(0.02)
                    assert rec.processing_at is not None, rec
                    started.append(rec.processing_at)
            finally:
                await fwd.stop()
    finally:
        await printer.close()
        engine.dispose()
    started.sort()
    return Run(receiving, [(b - a).total_seconds() for a, b in itertools.pairwise(started)])


async def main_async(jobs: int, spacing: float) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-spacing-") as d:
        for receiving in (True, False):
            r = await run(receiving, jobs, spacing, Path(d))
            label = "receiving" if r.receiving else "quiet    "
            print(f"{label} spacing={spacing:.2f} s, {jobs} jobs: gap between sends "
                  f"min {min(r.gaps) * 1000:7.1f} ms, median "
                  f"{statistics.median(r.gaps) * 1000:7.1f} ms, max {max(r.gaps) * 1000:7.1f} ms")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--jobs", type=int, default=6)
    ap.add_argument("--spacing", type=float, default=0.4,
                    help="forwarding.send_interval_while_receiving, seconds")
    a = ap.parse_args()
    if a.jobs < 2:
        ap.error("--jobs: at least 2 (a gap needs two sends)")
    asyncio.run(main_async(a.jobs, a.spacing))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
