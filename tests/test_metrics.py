"""ippproxy/metrics.py: one registry per Metrics (never the process-global one), counts by
queue, the sampled analysis queue, queues that disappear leave the exposition."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY
from server.metrics_text import sample

from ippproxy.jobs import WriterStats
from ippproxy.metrics import DENIED_BY_RULE, Metrics


def test_each_metrics_object_counts_on_its_own() -> None:
    a, b = Metrics(), Metrics()
    a.received("q1")
    a.received("q1")
    a.denied("q1", DENIED_BY_RULE)
    a.intake_seconds("Print-Job", 0.02)
    b.received("q2")
    text = a.render().decode()
    assert sample(text, "ippproxy_jobs_received_total", queue="q1") == 2
    assert sample(text, "ippproxy_jobs_received_total", queue="q2") == 0
    assert sample(text, "ippproxy_jobs_denied_total", queue="q1", reason="rule") == 1
    assert sample(text, "ippproxy_intake_duration_seconds_bucket", operation="Print-Job",
                  le="0.025") == 1
    assert REGISTRY.get_sample_value("ippproxy_jobs_received_total", {"queue": "q1"}) is None


def test_sampled_and_per_printer_gauges() -> None:
    m = Metrics()
    waiting = [3]
    m.watch_analysis_queue(lambda: waiting[0])
    m.printer_state("q1", 3)
    m.printer_state("gone", 5)
    assert sample(m.render().decode(), "ippproxy_analysis_queue_length") == 3
    waiting[0] = 0
    m.forget_printer("gone")
    text = m.render().decode()
    assert sample(text, "ippproxy_analysis_queue_length") == 0
    assert m.printer_queues() == {"q1"} and 'queue="gone"' not in text


def test_declared_queues_show_zero_counters() -> None:
    m = Metrics()
    m.declare(["a", "b"])
    text = m.render().decode()
    for q in ("a", "b"):
        for name in ("received", "printed", "held"):
            assert f'ippproxy_jobs_{name}_total{{queue="{q}"}} 0.0' in text
        assert f'ippproxy_forwarding_retries_total{{queue="{q}"}} 0.0' in text
        assert f'ippproxy_jobs_denied_total{{queue="{q}",reason="account"}} 0.0' in text


def test_intake_stages_by_operation_and_stage() -> None:
    m = Metrics()
    m.intake_stages("Print-Job", {"analyse": 0.0008, "create": 0.004})
    m.intake_stages("Print-Job", {"analyse": 0.0015, "create": 0.004})
    m.intake_stages("Send-Document", {"create": 0.03})
    text = m.render().decode()
    name = "ippproxy_intake_stage_duration_seconds"
    assert sample(text, f"{name}_bucket", operation="Print-Job", stage="analyse",
                  le="0.001") == 1
    assert sample(text, f"{name}_bucket", operation="Print-Job", stage="analyse",
                  le="0.002") == 2
    assert sample(text, f"{name}_count", operation="Print-Job", stage="create") == 2
    assert sample(text, f"{name}_sum", operation="Print-Job", stage="create") == \
        pytest.approx(0.008)
    assert sample(text, f"{name}_count", operation="Send-Document", stage="create") == 1
    assert sample(text, f"{name}_count", operation="Send-Document", stage="analyse") == 0


def test_analysis_stages_by_stage() -> None:
    m = Metrics()
    m.analysis_stages((("queue", 0.0004), ("ipc", 0.0015), ("open", 0.0001)))
    m.analysis_stages((("queue", 0.003), ("ipc", 0.0012), ("open", 0.0002), ("render", 0.09)))
    text = m.render().decode()
    name = "ippproxy_analysis_stage_duration_seconds"
    assert sample(text, f"{name}_count", stage="queue") == 2
    assert sample(text, f"{name}_bucket", stage="queue", le="0.0005") == 1
    assert sample(text, f"{name}_sum", stage="ipc") == pytest.approx(0.0027)
    assert sample(text, f"{name}_count", stage="render") == 1


def test_garbage_collection_pauses_by_generation() -> None:
    m = Metrics()
    counts = {0: (2, 0, 1), 2: (0, 0, 1)}    # per bucket of (0.001, 0.1), then above 0.1
    m.watch_gc(lambda: [(g, c, sum(c) * 0.05) for g, c in counts.items()], (0.001, 0.1))
    text = m.render().decode()
    name = "ippproxy_gc_pause_seconds"
    assert sample(text, f"{name}_bucket", generation="0", le="0.001") == 2
    assert sample(text, f"{name}_bucket", generation="0", le="0.1") == 2
    assert sample(text, f"{name}_bucket", generation="0", le="+Inf") == 3
    assert sample(text, f"{name}_count", generation="2") == 1
    assert sample(text, f"{name}_sum", generation="2") == pytest.approx(0.05)
    counts[2] = (0, 1, 1)     # read at each scrape
    assert sample(m.render().decode(), f"{name}_count", generation="2") == 2


def test_the_job_store_writer_read_at_each_scrape() -> None:
    m = Metrics()
    now = [WriterStats(batches=4, ops=10, batch_seconds=0.012, syncs=3, sync_seconds=0.0009)]
    m.watch_store(lambda: now[0])
    text = m.render().decode()
    assert sample(text, "ippproxy_store_batch_seconds_count") == 4
    assert sample(text, "ippproxy_store_batch_seconds_sum") == pytest.approx(0.012)
    assert sample(text, "ippproxy_store_writes_total") == 10
    assert sample(text, "ippproxy_store_sync_seconds_count") == 3
    assert sample(text, "ippproxy_store_sync_seconds_sum") == pytest.approx(0.0009)
    now[0] = WriterStats(batches=5, ops=18, batch_seconds=0.02, syncs=4, sync_seconds=0.001)
    text = m.render().decode()   # read again, not kept from the first scrape
    assert sample(text, "ippproxy_store_writes_total") == 18
    assert sample(text, "ippproxy_store_batch_seconds_count") == 5
