"""The transition table: every allowed move, and the forbidden ones."""

from __future__ import annotations

import pytest

from ippproxy.jobs.state import (
    NOT_COMPLETED,
    TERMINAL,
    TRANSITIONS,
    InvalidTransition,
    JobEvent,
    JobState,
    can,
    default_reasons,
    merge_reasons,
    next_state,
)

S, E = JobState, JobEvent

ALLOWED = {
    (S.PENDING, E.HOLD): S.PENDING_HELD,
    (S.PENDING_HELD, E.HOLD): S.PENDING_HELD,
    (S.PENDING_HELD, E.RELEASE): S.PENDING,
    (S.PENDING, E.START): S.PROCESSING,
    (S.PROCESSING, E.DESTINATION_STOPPED): S.PROCESSING_STOPPED,
    (S.PROCESSING_STOPPED, E.DESTINATION_STOPPED): S.PROCESSING_STOPPED,
    (S.PROCESSING_STOPPED, E.DESTINATION_RESUMED): S.PROCESSING,
    (S.PROCESSING, E.DESTINATION_RESUMED): S.PROCESSING,
    (S.PROCESSING, E.COMPLETE): S.COMPLETED,
    (S.PROCESSING_STOPPED, E.COMPLETE): S.COMPLETED,
    (S.PROCESSING, E.REQUEUE): S.PENDING,
    (S.PROCESSING_STOPPED, E.REQUEUE): S.PENDING,
    **{(s, E.CANCEL): S.CANCELED for s in NOT_COMPLETED},
    **{(s, E.ABORT): S.ABORTED for s in NOT_COMPLETED},
}


def test_table_is_exactly_the_allowed_moves() -> None:
    assert TRANSITIONS == ALLOWED


@pytest.mark.parametrize(("move", "target"), sorted(ALLOWED.items(), key=str))
def test_allowed(move: tuple[JobState, JobEvent], target: JobState) -> None:
    state, event = move
    assert next_state(state, event) is target
    assert next_state(int(state), event) is target  # plain ints from the codec work too
    assert can(state, event)


FORBIDDEN = [
    (S.PROCESSING, E.HOLD),  # RFC 8011 §4.3.5: Hold-Job only for pending jobs
    (S.PENDING, E.RELEASE),  # RFC 8011 §4.3.6: Release-Job only for held jobs
    (S.PENDING_HELD, E.START),  # a held job is never forwarded
    (S.PENDING, E.COMPLETE),
    (S.PENDING, E.REQUEUE),
    (S.PENDING, E.DESTINATION_STOPPED),
    (S.PENDING_HELD, E.COMPLETE),
    (S.PROCESSING, E.START),
    (S.PROCESSING, E.RELEASE),
]


@pytest.mark.parametrize(("state", "event"), FORBIDDEN)
def test_forbidden(state: JobState, event: JobEvent) -> None:
    with pytest.raises(InvalidTransition) as err:
        next_state(state, event)
    assert err.value.state is state and err.value.event is event
    assert state.keyword in str(err.value)
    assert not can(state, event)


@pytest.mark.parametrize("state", sorted(TERMINAL))
@pytest.mark.parametrize("event", list(JobEvent))
def test_terminal_states_are_final(state: JobState, event: JobEvent) -> None:
    with pytest.raises(InvalidTransition):
        next_state(state, event)


def test_unknown_state_value_is_an_invalid_transition() -> None:
    with pytest.raises(InvalidTransition):
        next_state(42, JobEvent.CANCEL)


def test_keywords() -> None:
    assert S.PENDING_HELD.keyword == "pending-held"
    assert S.PROCESSING_STOPPED.keyword == "processing-stopped"
    assert [int(s) for s in S] == [3, 4, 5, 6, 7, 8, 9]


def test_default_reasons() -> None:
    assert default_reasons(S.PENDING_HELD, E.HOLD) == ("job-hold-until-specified",)
    assert default_reasons(S.COMPLETED, E.COMPLETE) == ("job-completed-successfully",)
    assert default_reasons(S.CANCELED, E.CANCEL) == ("job-canceled-by-user",)
    assert default_reasons(S.ABORTED, E.ABORT) == ("aborted-by-system",)
    assert default_reasons(S.PROCESSING, E.START) == ("job-outgoing",)
    for state in S:
        assert default_reasons(state)


def test_merge_reasons() -> None:
    assert merge_reasons(["none"], add=["job-incoming"]) == ("job-incoming",)
    assert merge_reasons(["job-incoming"], drop=["job-incoming"]) == ("none",)
    assert merge_reasons(["a", "b"], add=["b", "c"], drop=["a"]) == ("b", "c")
