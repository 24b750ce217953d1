"""In-memory event subscriptions with the ippget pull method (RFC 3995, RFC 3996).

Theory of operation. A subscription names a queue (or one job), the events it wants and a
lease. Events are appended to every matching subscription's bounded queue with a
per-subscription sequence number; Get-Notifications returns the queued events with a
sequence number at or above the one the client asks for. Events live ``ippget-event-life``
seconds (RFC 3996 §5.2); expired leases are dropped on access. Subscriptions are not
persisted: after a restart clients re-subscribe (RFC 3995 §5.4.2 allows a Printer to lose
them). ``job-state-changed`` subsumes job-created and job-completed, and
``printer-state-changed`` subsumes printer-stopped (RFC 3995 §5.3.3.4).
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Protocol

from ippproxy.ipp import Attribute, Tag
from ippproxy.jobs.records import JobRecord
from ippproxy.server import attrs as A

EVENTS = ("job-completed", "job-created", "job-state-changed", "printer-state-changed",
          "printer-stopped")
DEFAULT_EVENTS = ("job-completed",)
DEFAULT_LEASE = 86400
MAX_LEASE = 67108863
MAX_EVENTS = 100
EVENT_LIFE = 300
GET_INTERVAL = 30
_IMPLIED = {"job-created": "job-state-changed", "job-completed": "job-state-changed",
            "printer-stopped": "printer-state-changed"}


class NamedQueue(Protocol):
    """A queue as printer events need it (context.QueueRuntime)."""

    @property
    def name(self) -> str: ...


@dataclass(frozen=True)
class Event:
    sequence: int
    event: str
    queue: str
    time: float
    text: str
    job_id: int | None = None
    job_state: int | None = None
    job_reasons: tuple[str, ...] = ()


@dataclass
class Subscription:
    id: int
    queue: str
    owner: str
    events: tuple[str, ...]
    lease: int
    job_id: int | None = None
    user_data: bytes | None = None
    time_interval: int = 0
    created: float = field(default_factory=time.time)
    renewed: float = field(default_factory=time.time)
    sequence: int = 0
    queue_events: deque[Event] = field(default_factory=lambda: deque(maxlen=MAX_EVENTS))

    @property
    def expires(self) -> float | None:
        return None if self.lease == 0 else self.renewed + self.lease

    def wants(self, event: str, job_id: int | None) -> bool:
        if self.job_id is not None and self.job_id != job_id:
            return False
        return event in self.events or _IMPLIED.get(event) in self.events


class Subscriptions:
    def __init__(self) -> None:
        self._next_id = 1
        self._subs: dict[int, Subscription] = {}

    @staticmethod
    def printer_attributes() -> list[Attribute]:
        return [
            A.keyword("notify-events-default", *DEFAULT_EVENTS),
            A.keyword("notify-events-supported", *EVENTS),
            A.integer("notify-lease-duration-default", DEFAULT_LEASE),
            A.range_("notify-lease-duration-supported", 0, MAX_LEASE),
            A.integer("notify-max-events-supported", MAX_EVENTS),
            A.keyword("notify-pull-method-supported", "ippget"),
            A.integer("ippget-event-life", EVENT_LIFE),
        ]

    def _expire(self) -> None:
        now = time.time()
        for sid, s in list(self._subs.items()):
            if s.expires is not None and s.expires < now:
                del self._subs[sid]
            else:
                while s.queue_events and s.queue_events[0].time < now - EVENT_LIFE:
                    s.queue_events.popleft()

    def create(self, queue: str, owner: str, events: tuple[str, ...], lease: int,
               job_id: int | None = None, user_data: bytes | None = None,
               time_interval: int = 0) -> Subscription:
        self._expire()
        sub = Subscription(self._next_id, queue, owner, events, lease, job_id, user_data,
                           time_interval)
        self._subs[sub.id] = sub
        self._next_id += 1
        return sub

    def get(self, sid: int) -> Subscription | None:
        self._expire()
        return self._subs.get(sid)

    def list(self, queue: str) -> list[Subscription]:
        self._expire()
        return [s for s in self._subs.values() if s.queue == queue]

    def owned_by(self, owner: str) -> int:
        """How many live subscriptions ``owner`` holds, on every queue."""
        self._expire()
        return sum(1 for s in self._subs.values() if s.owner == owner)

    def cancel(self, sid: int) -> None:
        self._subs.pop(sid, None)

    def _post(self, queue: str, event: str, text: str, job: JobRecord | None = None) -> None:
        now = time.time()
        for s in self._subs.values():
            if s.queue == queue and s.wants(event, job.job_id if job else None):
                s.sequence += 1
                s.queue_events.append(Event(
                    s.sequence, event, queue, now, text,
                    job.job_id if job else None, int(job.state) if job else None,
                    job.state_reasons if job else ()))

    def printer_event(self, queue: NamedQueue, event: str) -> None:
        self._post(queue.name, event, f"{queue.name}: {event}")

    def job_event(self, job: JobRecord, event: str) -> None:
        self._post(job.queue, event, f"job {job.job_id}: {event}", job)


def octets(value: object) -> bytes | None:
    if isinstance(value, bytes):
        return value[:63]
    if isinstance(value, str):
        return value.encode()[:63]
    return None


__all__ = ["EVENTS", "Event", "Subscription", "Subscriptions", "Tag", "octets"]
