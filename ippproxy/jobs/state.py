"""The job state machine, as a table.

Theory of operation
-------------------
A job is always in one of the seven RFC 8011 §5.3.7 ``job-state`` values. Nothing
changes a job's state except an *event* (:class:`JobEvent`) looked up in
:data:`TRANSITIONS`, a plain ``{(state, event): new_state}`` dict in the style of
h11: if the pair is not in the table, the move is illegal and :func:`next_state`
raises :class:`InvalidTransition`. The table is the whole policy; there is no
``if`` chain elsewhere that moves jobs. Code that wants to know whether an IPP
operation is allowed asks :func:`can` (e.g. Hold-Job on a processing job is
``client-error-not-possible``, RFC 8011 §4.3.5).

Events and who raises them::

    HOLD                 Hold-Job, a policy hold, job-hold-until   pending -> pending-held
    RELEASE              Release-Job, hold timer expired           pending-held -> pending
    START                the forwarder claims the job              pending -> processing
    DESTINATION_STOPPED  destination printer stopped               processing -> processing-stopped
    DESTINATION_RESUMED  destination printer resumed               processing-stopped -> processing
    COMPLETE             destination job completed                 processing(-stopped) -> completed
    CANCEL               Cancel-Job, Cancel-My-Jobs, admin         any non-terminal -> canceled
    ABORT                system failure, bad document, timeout     any non-terminal -> aborted
    REQUEUE              retry or crash recovery                   processing(-stopped) -> pending

``completed``, ``canceled`` and ``aborted`` are terminal: no event leaves them.
``job-state-reasons`` (RFC 8011 §5.3.8) refine a state without changing it; the
defaults for each move come from :func:`default_reasons`.

``JobState`` is the codec's ``ippproxy.ipp.JobState`` (an ``IntEnum``, so it compares and
hashes equal to the plain ints the codec carries).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

# One job-state enum for the whole project: the codec's (RFC 8011 §5.3.7), re-exported here.
from ippproxy.ipp import JobState

__all__ = [
    "TRANSITIONS", "InvalidTransition", "JobEvent", "JobState", "can", "default_reasons",
    "is_terminal", "merge_reasons", "next_state",
]


class JobEvent(enum.Enum):
    HOLD = "hold"
    RELEASE = "release"
    START = "start"
    DESTINATION_STOPPED = "destination-stopped"
    DESTINATION_RESUMED = "destination-resumed"
    COMPLETE = "complete"
    CANCEL = "cancel"
    ABORT = "abort"
    REQUEUE = "requeue"


class InvalidTransition(Exception):
    """``event`` is not allowed in ``state`` (no entry in :data:`TRANSITIONS`)."""

    def __init__(self, state: int, event: JobEvent) -> None:
        self.state: int = JobState(state) if state in JobState._value2member_map_ else state
        self.event = event
        name = self.state.keyword if isinstance(self.state, JobState) else str(state)
        super().__init__(f"cannot {event.value} a job in state {name}")


S = JobState
E = JobEvent

TERMINAL: frozenset[JobState] = frozenset({S.CANCELED, S.ABORTED, S.COMPLETED})
NOT_COMPLETED: frozenset[JobState] = frozenset(
    {S.PENDING, S.PENDING_HELD, S.PROCESSING, S.PROCESSING_STOPPED}
)

TRANSITIONS: dict[tuple[JobState, JobEvent], JobState] = {
    # RFC 8011 §4.3.5 Hold-Job: pending or pending-held (a new hold-until) only.
    (S.PENDING, E.HOLD): S.PENDING_HELD,
    (S.PENDING_HELD, E.HOLD): S.PENDING_HELD,
    # RFC 8011 §4.3.6 Release-Job.
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
}
# RFC 8011 §4.3.3 Cancel-Job: any job not yet in a terminal state; ABORT likewise.
for _state in NOT_COMPLETED:
    TRANSITIONS[(_state, E.CANCEL)] = S.CANCELED
    TRANSITIONS[(_state, E.ABORT)] = S.ABORTED
del _state


def next_state(state: int, event: JobEvent) -> JobState:
    """The state after ``event`` in ``state``; raises :class:`InvalidTransition`."""
    try:
        return TRANSITIONS[(JobState(state), event)]
    except (KeyError, ValueError):
        raise InvalidTransition(state, event) from None


def can(state: int, event: JobEvent) -> bool:
    return (state, event) in TRANSITIONS


def is_terminal(state: int) -> bool:
    return state in TERMINAL


# RFC 8011 §5.3.8 job-state-reasons keywords used as defaults.
_BY_EVENT: dict[JobEvent, tuple[str, ...]] = {
    E.HOLD: ("job-hold-until-specified",),
    E.RELEASE: ("none",),
    E.START: ("job-outgoing",),  # "The Printer is transmitting the Job to the Output Device"
    E.DESTINATION_STOPPED: ("printer-stopped",),
    E.DESTINATION_RESUMED: ("job-printing",),
    E.COMPLETE: ("job-completed-successfully",),
    E.CANCEL: ("job-canceled-by-user",),
    E.ABORT: ("aborted-by-system",),
    E.REQUEUE: ("none",),
}
_BY_STATE: dict[JobState, tuple[str, ...]] = {
    S.PENDING: ("none",),
    S.PENDING_HELD: ("job-hold-until-specified",),
    S.PROCESSING: ("job-printing",),
    S.PROCESSING_STOPPED: ("printer-stopped",),
    S.CANCELED: ("job-canceled-by-user",),
    S.ABORTED: ("aborted-by-system",),
    S.COMPLETED: ("job-completed-successfully",),
}
# A job whose data is still arriving (Create-Job not closed), RFC 8011 §5.3.8.
INCOMING_REASONS: tuple[str, ...] = ("job-incoming", "job-data-insufficient")


def default_reasons(state: int, event: JobEvent | None = None) -> tuple[str, ...]:
    """Default ``job-state-reasons`` for a job entering ``state`` (the new state) via ``event``."""
    if event is not None:
        return _BY_EVENT[event]
    return _BY_STATE[JobState(state)]


def merge_reasons(
    reasons: Iterable[str], add: Iterable[str] = (), drop: Iterable[str] = ()
) -> tuple[str, ...]:
    """``reasons`` plus ``add`` minus ``drop``, order kept, no duplicates, ``none`` only alone."""
    dropped = set(drop)
    out: list[str] = []
    for r in (*reasons, *add):
        if r not in dropped and r not in out:
            out.append(r)
    if len(out) > 1 and "none" in out:
        out.remove("none")
    return tuple(out) or ("none",)
