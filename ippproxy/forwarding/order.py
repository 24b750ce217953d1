"""A queue's jobs go to the printer one at a time, first in, first out.

CUPS sends a queue's jobs one after the other, and users expect them to come out of the
printer in the order they printed them. The Forwarder claims a queue's next job only when
the one before it has been handed to the printer (its remote job-id is recorded) or has
left forwarding (aborted, held, requeued). Following jobs at the printer to their end goes
on in parallel, so a printer with a job queue of its own still gets the next job while it
prints the last one.

When the printer is unavailable, the whole queue waits out the failed job's back-off: a
later job must not overtake one that waits to be retried (the claim order, priority then
creation time, then gives the older job first).

This also keeps delivery from taking the CPU that intake needs: a burst of Print-Jobs is
acknowledged first, and forwarded at one job per queue at a time.

With several nodes each node keeps its own gate: two nodes may each send one job of the
same queue at once (the order is then that of the claims, not of the arrivals).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable


class QueueGate:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._sending: dict[str, str] = {}    # queue -> job UUID on its way to the printer
        self._blocked: dict[str, float] = {}  # queue -> clock time its retry is due

    def claimable(self, queues: Iterable[str]) -> list[str] | None:
        """The queues whose next job may be claimed now; None: any queue's (none is busy)."""
        now = self._clock()
        for name in [n for n, until in self._blocked.items() if until <= now]:
            del self._blocked[name]
        if not self._sending and not self._blocked:
            return None
        return [n for n in queues if n not in self._sending and n not in self._blocked]

    def enter(self, queue: str, job_uuid: str) -> None:
        self._sending[queue] = job_uuid

    def leave(self, queue: str, job_uuid: str) -> bool:
        """The job is at the printer or out of forwarding; True if it held the queue."""
        if self._sending.get(queue) != job_uuid:
            return False
        del self._sending[queue]
        return True

    def block(self, queue: str, seconds: float) -> None:
        """The printer is unavailable: no job of the queue before ``seconds`` from now."""
        self._blocked[queue] = self._clock() + seconds

    def seconds_to_unblock(self) -> float | None:
        if not self._blocked:
            return None
        return max(0.0, min(self._blocked.values()) - self._clock())

    def sending(self, queue: str) -> str | None:
        return self._sending.get(queue)
