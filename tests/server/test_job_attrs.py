"""job_attrs.select: requests for record-only attributes skip the stored blob and answer
exactly what the full render filtered would."""

from __future__ import annotations

import datetime as dt

import pytest

from ippproxy.ipp import Attribute, Group, Message, Tag, encode
from ippproxy.jobs.records import DocumentRecord, JobRecord
from ippproxy.jobs.state import JobState
from ippproxy.server import job_attrs
from ippproxy.server.uris import Origin

NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)


def _job() -> JobRecord:
    stored = encode(Message((2, 0), 0, 1, (Group(Tag.JOB_ATTRIBUTES, (
        Attribute.single("copies", Tag.INTEGER, 2),
        Attribute.single("sides", Tag.KEYWORD, "two-sided-long-edge"))),)))
    return JobRecord(
        uuid="0b6e5a52-3f1c-4d7e-9a51-5f1f0c2d9e11", queue="q", job_id=7,
        state=JobState.PROCESSING, state_reasons=("job-printing",), state_message="sent",
        owner="alice", name="report.pdf", originating_host="10.0.0.5", attributes=stored,
        document_format="application/pdf", hold_until=None, hold_until_time=None, priority=50,
        created_at=NOW, updated_at=NOW, processing_at=NOW, completed_at=None, closed=True,
        destination_uri=None, remote_job_id=3, forward_attempts=1, next_attempt_at=None,
        forward_started=True, impressions_completed=None, media_sheets_completed=None,
        impressions=None, impressions_col=None, analysis=None, node=None, lease_until=None,
        documents=(DocumentRecord(1, "d1", 3000, "00" * 32, "application/pdf", None, None,
                                  NOW),))


def _plain(attrs: list[Attribute]) -> list[tuple[str, object]]:
    # job-printer-up-time is the clock now: compare its presence, not its value
    return [(a.name, None if a.name == "job-printer-up-time" else a.values) for a in attrs]


@pytest.mark.parametrize("wanted", [
    {"job-id"}, {"job-id", "job-uri"}, {"job-state", "job-state-reasons", "job-name"},
    {"job-k-octets", "time-at-completed", "date-time-at-processing", "job-printer-up-time"},
    {"copies"}, {"job-id", "sides"}, {"job-template"}, {"job-description"}, {"all"},
])
def test_select_equals_render_filtered(wanted: set[str]) -> None:
    job = _job()
    full = job_attrs.render(job, Origin("localhost:8631"))
    names = set(wanted)
    for group, members in job_attrs.GROUPS.items():
        if group in wanted:
            names |= members
    if "job-template" in wanted:
        names |= {a.name for a in full if a.name not in job_attrs.DESCRIPTION}
    expected = full if "all" in wanted else [a for a in full if a.name in names]
    assert _plain(job_attrs.select(job, Origin("localhost:8631"), wanted)) == _plain(expected)


def test_record_only_requests_do_not_decode_the_stored_attributes(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def no_unpack(blob: bytes) -> None:
        raise AssertionError("stored attributes decoded")

    monkeypatch.setattr(job_attrs, "unpack", no_unpack)
    job = _job()
    got = job_attrs.select(job, Origin("localhost:8631"), {"job-id", "job-state"})
    assert [(a.name, a.value) for a in got] == [("job-id", 7), ("job-state", 5)]
    got = job_attrs.select(job, Origin("localhost:8631"), None, frozenset({"job-id", "job-uri"}))
    assert [a.name for a in got] == ["job-id", "job-uri"]
    with pytest.raises(AssertionError):
        job_attrs.select(job, Origin("localhost:8631"), {"copies"})
