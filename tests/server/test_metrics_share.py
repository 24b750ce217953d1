"""Several workers' metrics as one exposition (ippproxy/server/metrics_share.py), without a
server: real ``Metrics`` objects, their text written and merged as the workers do."""

from __future__ import annotations

from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from ippproxy.metrics import Metrics
from ippproxy.server.metrics_share import MetricsShare, merge


def _worker(received: int) -> Metrics:
    m = Metrics()
    m.declare(["office"])
    for _ in range(received):
        m.received("office")
        m.intake_seconds("Print-Job", 0.003)
    return m


def _samples(text: str, name: str) -> dict[str, float]:
    return {s.labels["worker"]: s.value for f in text_string_to_metric_families(text)
            for s in f.samples if s.name == name}


def test_each_workers_samples_are_labelled_and_every_family_is_written_once() -> None:
    text = merge({"w0": _worker(3).render().decode(),
                  "w1": _worker(5).render().decode()}).decode()
    assert _samples(text, "ippproxy_jobs_received_total") == {"w0": 3.0, "w1": 5.0}
    assert _samples(text, "ippproxy_intake_duration_seconds_count") == {"w0": 3.0, "w1": 5.0}
    for line in ("# TYPE ippproxy_jobs_received_total counter",
                 "# TYPE ippproxy_intake_duration_seconds histogram",
                 "# HELP ippproxy_jobs_received_total Jobs accepted at intake"):
        assert text.count(line) == 1, line
    # the merged text is itself valid: it parses back whole
    assert len(list(text_string_to_metric_families(text))) == len(
        list(text_string_to_metric_families(_worker(3).render().decode())))


def test_a_file_that_cannot_be_read_is_left_out() -> None:
    text = merge({"w0": _worker(2).render().decode(),
                  "w1": "ippproxy_jobs_received_total{"}).decode()
    assert _samples(text, "ippproxy_jobs_received_total") == {"w0": 2.0}


def test_a_scrape_answers_with_its_own_fresh_figures_and_the_others_last(
        tmp_path: Path) -> None:
    w0, w1 = MetricsShare(tmp_path, "w0"), MetricsShare(tmp_path, "w1")
    w1.publish(_worker(4).render())
    text = w0.merged(_worker(1).render()).decode()
    assert _samples(text, "ippproxy_jobs_received_total") == {"w0": 1.0, "w1": 4.0}
    # w0's answer was published too, replacing the file whole (no temporary left)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w0.prom", "w1.prom"]
    text = w1.merged(_worker(6).render()).decode()
    assert _samples(text, "ippproxy_jobs_received_total") == {"w0": 1.0, "w1": 6.0}
