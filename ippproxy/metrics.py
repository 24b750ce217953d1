"""The server's Prometheus metrics: one ``Metrics`` per app, passed down to where things happen.

Each ``Metrics`` has its own ``CollectorRegistry`` (never prometheus_client's global one), so
two apps in one process, or tests, never share counts. The intake counts what it received,
denied and held and how long it took, stage by stage and, within the analysis, part by
part; the forwarder what printed and every retry; the analysis pool's waiting requests are
read when scraped; and the server sets each queue's printer state (RFC 8011 §5.4.11
values) before it renders the text exposition format. Labels are queue names from the
configuration or the server's own words (operations, stages), never client-supplied strings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import (
    CounterMetricFamily,
    HistogramMetricFamily,
    Metric,
    SummaryMetricFamily,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

CONTENT_TYPE = CONTENT_TYPE_LATEST
# Intake covers receiving the document, so the buckets reach minutes (large uploads).
INTAKE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
                  60.0, 300.0)
# A stage of a small document's intake takes a millisecond or less; a large upload's
# receive stage, minutes.
STAGE_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                 5.0, 10.0, 30.0, 60.0, 300.0)
DENIED_BY_RULE = "rule"
DENIED_BY_ACCOUNT = "account"


class WriterCounts(Protocol):
    """What the job store's writer has done so far (jobs/_writer.py ``WriterStats``)."""

    @property
    def batches(self) -> int: ...
    @property
    def ops(self) -> int: ...
    @property
    def batch_seconds(self) -> float: ...
    @property
    def syncs(self) -> int: ...
    @property
    def sync_seconds(self) -> float: ...


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self._received = Counter("ippproxy_jobs_received", "Jobs accepted at intake",
                                 ["queue"], registry=r)
        self._printed = Counter("ippproxy_jobs_printed",
                                "Jobs the destination printer completed", ["queue"], registry=r)
        self._denied = Counter("ippproxy_jobs_denied",
                               "Jobs refused by a rule or by their account",
                               ["queue", "reason"], registry=r)
        self._held = Counter("ippproxy_jobs_held",
                             "Jobs held at intake for an operator (a rule, uncountable pages)",
                             ["queue"], registry=r)
        self._intake = Histogram("ippproxy_intake_duration_seconds",
                                 "Time from a submission's start to its job's creation",
                                 ["operation"], buckets=INTAKE_BUCKETS, registry=r)
        self._stage = Histogram("ippproxy_intake_stage_duration_seconds",
                                "Time of each stage of a submission's intake (receive, "
                                "analyse, decide, reserve, create)",
                                ["operation", "stage"], buckets=STAGE_BUCKETS, registry=r)
        self._stages: dict[tuple[str, str], Any] = {}   # bound children (labels() locks)
        self._analysis_stage = Histogram(
            "ippproxy_analysis_stage_duration_seconds",
            "Time of each part of a document's analysis at intake (accounting on): waiting "
            "for an idle worker (queue), the pipe round trip outside the worker (ipc), and "
            "the worker's own steps (request, open, count, scan, write, render)",
            ["stage"], buckets=STAGE_BUCKETS, registry=r)
        self._analysis_stages: dict[str, Any] = {}
        self._retries = Counter("ippproxy_forwarding_retries",
                                "Jobs put back to wait for an unavailable printer",
                                ["queue"], registry=r)
        self._analysis = Gauge("ippproxy_analysis_queue_length",
                               "Documents waiting for an analysis worker", registry=r)
        self._printer = Gauge("ippproxy_printer_state",
                              "printer-state of each queue: 3 idle, 4 processing, 5 stopped",
                              ["queue"], registry=r)

    def declare(self, queues: Iterable[str]) -> None:
        """Every queue's counters exist from the start at 0 (so ``rate()`` and alerts see
        a queue before its first job)."""
        for q in queues:
            for counter in (self._received, self._printed, self._held, self._retries):
                counter.labels(q)
            for reason in (DENIED_BY_RULE, DENIED_BY_ACCOUNT):
                self._denied.labels(q, reason)

    # -- intake ------------------------------------------------------------------------
    def received(self, queue: str) -> None:
        self._received.labels(queue).inc()

    def denied(self, queue: str, reason: str) -> None:
        self._denied.labels(queue, reason).inc()

    def held(self, queue: str) -> None:
        self._held.labels(queue).inc()

    def intake_seconds(self, operation: str, seconds: float) -> None:
        self._intake.labels(operation).observe(seconds)

    def intake_stages(self, operation: str, seconds: Mapping[str, float]) -> None:
        """One submission's stages (pipeline/stages.py): their names and the operation
        are the server's own words, never a client's."""
        for stage, value in seconds.items():
            child = self._stages.get((operation, stage))
            if child is None:
                child = self._stages[(operation, stage)] = self._stage.labels(operation, stage)
            child.observe(value)

    def analysis_stages(self, stages: Iterable[tuple[str, float]]) -> None:
        """One document's analysis (filters/model.py ``STAGES``: the pool keeps only those
        names, whatever a worker answers)."""
        for stage, value in stages:
            child = self._analysis_stages.get(stage)
            if child is None:
                child = self._analysis_stages[stage] = self._analysis_stage.labels(stage)
            child.observe(value)

    # -- forwarding --------------------------------------------------------------------
    def printed(self, queue: str) -> None:
        self._printed.labels(queue).inc()

    def retried(self, queue: str) -> None:
        self._retries.labels(queue).inc()

    # -- sampled -----------------------------------------------------------------------
    def watch_analysis_queue(self, waiting: Callable[[], int]) -> None:
        """Read the pool's waiting requests at each scrape."""
        self._analysis.set_function(lambda: float(waiting()))

    def watch_gc(self, read: Callable[[], Iterable[tuple[int, Sequence[int], float]]],
                 bounds: Sequence[float]) -> None:
        """Read the garbage collector's pauses at each scrape (server/heap.py): per
        generation, how many fell in each bucket of ``bounds`` (then above the last), and
        their seconds in all."""
        self.registry.register(_GcPauses(read, tuple(bounds)))

    def watch_store(self, read: Callable[[], WriterCounts]) -> None:
        """Read the job store writer's counts at each scrape: its batches (one COMMIT
        each) and their seconds, the writes they carried, and the log's syncs."""
        self.registry.register(_StoreWriter(read))

    def printer_state(self, queue: str, state: int) -> None:
        self._printer.labels(queue).set(state)

    def forget_printer(self, queue: str) -> None:
        """A queue that no longer exists leaves the exposition."""
        try:
            self._printer.remove(queue)
        except KeyError:
            pass

    def printer_queues(self) -> set[str]:
        return {str(s.labels["queue"]) for m in self._printer.collect() for s in m.samples}

    def render(self) -> bytes:
        """The text exposition format."""
        return generate_latest(self.registry)


class _GcPauses:
    """A collector of ``ippproxy_gc_pause_seconds``: the counts are kept outside any
    metric (a collector callback must take no lock), and turned into a histogram here."""

    def __init__(self, read: Callable[[], Iterable[tuple[int, Sequence[int], float]]],
                 bounds: tuple[float, ...]) -> None:
        self._read, self._bounds = read, bounds

    def collect(self) -> Iterator[Metric]:
        family = HistogramMetricFamily(
            "ippproxy_gc_pause_seconds", "Pauses of the whole process for a garbage "
            "collection, by generation (2: a full collection)", labels=["generation"])
        for generation, counts, seconds in self._read():
            cumulative, buckets = 0, []
            for bound, n in zip((*self._bounds, float("inf")), counts, strict=True):
                cumulative += n
                buckets.append(("+Inf" if bound == float("inf") else repr(bound), cumulative))
            family.add_metric([str(generation)], buckets, seconds)
        yield family


class _StoreWriter:
    """The job store's group commit (jobs/_writer.py) as ``ippproxy_store_*`` families:
    writes per batch is how many jobs share a COMMIT, a batch's and a sync's mean seconds
    are what a job's ``create`` stage waits for."""

    def __init__(self, read: Callable[[], WriterCounts]) -> None:
        self._read = read

    def collect(self) -> Iterator[Metric]:
        s = self._read()
        batch = SummaryMetricFamily(
            "ippproxy_store_batch_seconds", "Batches of the job store's writer, one COMMIT "
            "each: their number and their time (statements and COMMIT)")
        batch.add_metric([], s.batches, s.batch_seconds)
        writes = CounterMetricFamily(
            "ippproxy_store_writes", "Writes committed by the job store's writer (per batch: "
            "how many share one COMMIT)")
        writes.add_metric([], s.ops)
        sync = SummaryMetricFamily(
            "ippproxy_store_sync_seconds", "Syncs of the job store's SQLite log after its "
            "COMMITs (db/walsync.py): their number and their time")
        sync.add_metric([], s.syncs, s.sync_seconds)
        yield from (batch, writes, sync)
