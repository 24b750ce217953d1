"""Who may release a held job and which printer states stop it (services/release_rules.py,
pure): every mode's rights, approvers by name, group and role, and the printer-state-reasons
with their severity suffixes."""

from __future__ import annotations

import datetime as dt

import pytest

from ippproxy.jobs.records import JobRecord
from ippproxy.jobs.state import JobState
from ippproxy.services.release_rules import (
    Asker,
    Mode,
    cannot_print,
    is_approver,
    may_cancel,
    mode_of,
    refusal,
    waits_for_release,
)


def _job(state: JobState, *reasons: str) -> JobRecord:
    now = dt.datetime.now(dt.UTC)
    return JobRecord(
        uuid="u", queue="q", job_id=1, state=state, state_reasons=reasons,
        state_message=None, owner="alice", name="n", originating_host=None,
        attributes=b"", document_format=None, hold_until=None, hold_until_time=None,
        priority=50, created_at=now, updated_at=now, processing_at=None,
        completed_at=None, closed=True, destination_uri=None, remote_job_id=None,
        forward_attempts=0, next_attempt_at=None, forward_started=False,
        impressions_completed=None, media_sheets_completed=None, impressions=None,
        impressions_col=None, analysis=None, node=None, lease_until=None)


@pytest.mark.parametrize(("asker", "mode", "allowed"), [
    (Asker("alice"), Mode.SECURE, True),
    (Asker("bob"), Mode.SECURE, False),
    (Asker("bob", admin=True), Mode.SECURE, True),
    (Asker("bob"), Mode.ANY, True),
    (Asker("alice"), Mode.APPROVAL, False),          # the owner does not approve her own
    (Asker("carol", approver=True), Mode.APPROVAL, True),
    (Asker("bob"), Mode.NONE, False),
])
def test_who_releases(asker: Asker, mode: Mode, allowed: bool) -> None:
    assert (refusal(asker, "alice", mode) is None) == allowed


def test_a_pin_opens_a_secure_job_for_whoever_holds_it() -> None:
    assert refusal(Asker("pin@desk"), "alice", Mode.SECURE, pin_given=True) is None
    assert refusal(Asker("pin@desk"), "alice", Mode.APPROVAL, pin_given=True) is not None


def test_who_cancels() -> None:
    assert may_cancel(Asker("alice"), "alice", Mode.APPROVAL)
    assert may_cancel(Asker("dave", approver=True), "alice", Mode.APPROVAL)
    assert not may_cancel(Asker("dave", approver=True), "alice", Mode.SECURE)
    assert not may_cancel(Asker("bob"), "alice", Mode.ANY)


def test_approvers_by_name_group_and_role() -> None:
    assert is_approver("carol", (), ("carol",), False)
    assert is_approver("dave", ("managers",), ("@managers",), False)
    assert not is_approver("dave", ("staff",), ("@managers", "managers"), False)
    assert is_approver("erin", (), (), True)


@pytest.mark.parametrize(("reasons", "problem"), [
    (frozenset(), None),
    (frozenset({"toner-low-warning"}), None),
    (frozenset({"media-empty-error"}), "media-empty"),
    (frozenset({"media-jam"}), "media-jam"),
    (frozenset({"door-open-report", "toner-low-warning"}), "door-open"),
    (frozenset({"offline-report"}), "unreachable"),
    (None, "unreachable"),
])
def test_printer_states_that_stop_a_release(reasons: frozenset[str] | None,
                                            problem: str | None) -> None:
    assert cannot_print(reasons) == problem


def test_which_holds_wait_for_a_release() -> None:
    held = _job(JobState.PENDING_HELD, "job-hold-until-specified")
    assert waits_for_release(held, Mode.SECURE)
    assert not waits_for_release(held, Mode.NONE)          # an operator's hold, no queue rule
    assert waits_for_release(_job(JobState.PENDING_HELD, "job-password-wait"), Mode.NONE)
    assert not waits_for_release(_job(JobState.PENDING_HELD, "account-info-needed"),
                                 Mode.SECURE)
    assert not waits_for_release(_job(JobState.PENDING, "none"), Mode.SECURE)
    assert mode_of("release-any") is Mode.ANY and mode_of("bogus") is Mode.NONE
