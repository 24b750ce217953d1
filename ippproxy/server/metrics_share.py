"""``/metrics`` with ``server.workers``: every worker's counts in each scrape, whichever
worker the scrape reaches.

Each worker is a process with its own ``Metrics``, and a scraper's connection reaches one
of them (SO_REUSEPORT). So each worker writes its exposition (``Metrics.render``) into a
directory the supervisor made for them all, as ``<node>.prom``, replaced atomically
(written aside, then renamed): every ``PUBLISH_SECONDS`` and at each scrape it answers.
The worker a scrape reaches answers with the families of every file merged, each sample
labelled ``worker="<node>"``; ``sum without (worker) (...)`` in PromQL gives the server's
totals. Another worker's figures are therefore at most ``PUBLISH_SECONDS`` old. A worker
that is started again starts its counters at zero under the same label, which Prometheus
reads as a counter reset (``rate()`` and ``increase()`` handle it). The files are the
workers' own output, in a directory only the server's user can read (mkdtemp, 0700);
one that cannot be parsed is left out of the answer and logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from ippproxy.server.background import stop_tasks

log = logging.getLogger(__name__)
PUBLISH_SECONDS = 2.0
WORKER_LABEL = "worker"
SUFFIX = ".prom"


class MetricsShare:
    """One worker's side: ``publish`` its own exposition, ``merged`` every worker's."""

    def __init__(self, directory: Path, node: str) -> None:
        self.directory = directory
        self.node = node

    def publish(self, exposition: bytes) -> None:
        path = self.directory / f"{self.node}{SUFFIX}"
        aside = self.directory / f".{self.node}.{os.getpid()}.tmp"
        aside.write_bytes(exposition)
        os.replace(aside, path)   # a reader sees the old file or the new one, never half

    def merged(self, own: bytes) -> bytes:
        """``own`` (this worker's exposition, fresh) with every other worker's last one."""
        self.publish(own)
        texts = {self.node: own.decode()}
        for path in self.directory.glob(f"*{SUFFIX}"):
            node = path.name[:-len(SUFFIX)]
            if node != self.node:
                with contextlib.suppress(FileNotFoundError):   # (never removed while serving)
                    texts[node] = path.read_text()
        return merge(texts)

    async def publishing(self, render: Callable[[], bytes]) -> AsyncIterator[None]:
        """An aiohttp cleanup context: publish every ``PUBLISH_SECONDS`` while serving."""
        async def loop() -> None:
            while True:
                try:
                    await asyncio.to_thread(self.publish, render())
                except OSError as e:
                    log.warning("cannot publish this worker's metrics: %s", e)
                await asyncio.sleep(PUBLISH_SECONDS)

        task = asyncio.create_task(loop(), name="metrics-publish")
        yield
        await stop_tasks([task])


def merge(texts: dict[str, str]) -> bytes:
    """The text expositions of several workers (by node) as one, each sample labelled with
    its worker; a family's help and type are the first worker's."""
    families: dict[str, Metric] = {}
    for worker, text in sorted(texts.items()):
        try:
            parsed = list(text_string_to_metric_families(text))
        except ValueError as e:
            log.warning("the metrics of worker %s cannot be read: %s", worker, e)
            continue
        for family in parsed:
            into = families.get(family.name)
            if into is None:
                into = families[family.name] = Metric(family.name, family.documentation,
                                                      family.type, family.unit)
            into.samples += [Sample(s.name, {**s.labels, WORKER_LABEL: worker}, s.value,
                                    s.timestamp, s.exemplar) for s in family.samples]
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Families(families.values()))
    return generate_latest(registry)


class _Families:
    """A collector that yields families already built (prometheus_client's protocol)."""

    def __init__(self, families: Iterable[Metric]) -> None:
        self.families = list(families)

    def collect(self) -> list[Metric]:
        return self.families
