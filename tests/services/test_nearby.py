"""services/nearby.py: client streams by network address, and what a person at that
address is shown of a job (issue 17 point 1)."""

from __future__ import annotations

import datetime as dt

from ippproxy.jobs.records import JobRecord
from ippproxy.jobs.state import JobState
from ippproxy.services.nearby import ByAddress, from_address, identity_question

NOW = dt.datetime(2026, 12, 3, 8, 0, tzinfo=dt.UTC)


def _job(peer: str | None, analysis: dict[str, object] | None = None) -> JobRecord:
    return JobRecord(
        uuid="u1", queue="walkup", job_id=7, state=JobState.PENDING_HELD,
        state_reasons=("ippproxy-identity-needed",), state_message="secret message",
        owner="Pixel 7", name="payslip.pdf", originating_host="claimed-host",
        attributes=b"", document_format="application/pdf", hold_until="indefinite",
        hold_until_time=None, priority=50, created_at=NOW, updated_at=NOW,
        processing_at=None, completed_at=None, closed=True, destination_uri=None,
        remote_job_id=None, forward_attempts=0, next_attempt_at=None, forward_started=False,
        impressions_completed=None, media_sheets_completed=None, impressions=None,
        impressions_col=None, analysis=analysis, node=None, lease_until=None,
        peer_address=peer)


def test_streams_are_found_by_their_address_only() -> None:
    index: ByAddress[str] = ByAddress()
    index.add("127.0.0.2", "carol-laptop")
    index.add("127.0.0.2", "carol-browser")
    index.add("127.0.0.1", "bob")
    index.add("", "unix-socket")                 # no address: filed nowhere
    assert sorted(index.at("127.0.0.2")) == ["carol-browser", "carol-laptop"]
    assert index.at("127.0.0.3") == () and index.at(None) == () and index.at("") == ()
    index.discard("127.0.0.2", "carol-laptop")
    index.discard("127.0.0.2", "carol-browser")
    index.discard("127.0.0.9", "never-added")
    assert "127.0.0.2" not in index and "127.0.0.1" in index and index
    index.discard("127.0.0.1", "bob")
    assert not index


def test_a_job_is_from_its_recorded_address_only() -> None:
    assert from_address(_job("127.0.0.2"), "127.0.0.2")
    assert not from_address(_job("127.0.0.2"), "127.0.0.1")
    assert not from_address(_job(None), "")      # no address matches nothing
    assert not from_address(_job("127.0.0.2"), "")


def test_the_popup_shows_name_pages_printer_time_and_nothing_else() -> None:
    job = _job("127.0.0.2", {"attributes": {"job-pages": 3, "ippproxy-cost-estimate": "0.45"},
                             "estimate": 45, "account": "physics"})
    shown = identity_question(job, NOW + dt.timedelta(minutes=10))
    assert shown == {"uuid": "u1", "job_id": 7, "printer": "walkup", "name": "payslip.pdf",
                     "pages": 3, "created_at": NOW, "state": "pending-held",
                     "reasons": ["ippproxy-identity-needed"],
                     "deadline": "2026-12-03T08:10:00+00:00"}
