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

Intake comes first. While job submissions are being received (the server's counter,
server/receiving.py, read through a callable), a queue sends its next job only
``spacing`` seconds (``forwarding.send_interval_while_receiving``) after its last one
started: clients of a burst of Print-Jobs wait for our answer, the printer prints at its
own pace of seconds per page, and every job is already durable. When intake goes quiet
the queue sends at once again; under endless intake it still sends one job per
``spacing``.

With several nodes each node keeps its own gate: two nodes may each send one job of the
same queue at once (the order is then that of the claims, not of the arrivals).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable


class QueueGate:
    def __init__(self, clock: Callable[[], float] = time.monotonic, *,
                 spacing: float = 0.0, receiving: Callable[[], bool] = lambda: False) -> None:
        self._clock = clock
        self._spacing = spacing
        self._receiving = receiving
        self._sending: dict[str, str] = {}    # queue -> job UUID on its way to the printer
        self._blocked: dict[str, float] = {}  # queue -> clock time its retry is due
        self._started: dict[str, float] = {}  # queue -> clock time its last send started

    def _spaced(self, now: float) -> dict[str, float]:
        """Queues that must wait for intake, with the clock time they may send again."""
        if not self._spacing or not self._receiving():
            return {}
        return {n: t + self._spacing for n, t in self._started.items()
                if t + self._spacing > now}

    def claimable(self, queues: Iterable[str]) -> list[str] | None:
        """The queues whose next job may be claimed now; None: any queue's (none waits)."""
        now = self._clock()
        for name in [n for n, until in self._blocked.items() if until <= now]:
            del self._blocked[name]
        spaced = self._spaced(now)
        if not self._sending and not self._blocked and not spaced:
            return None
        return [n for n in queues
                if n not in self._sending and n not in self._blocked and n not in spaced]

    def enter(self, queue: str, job_uuid: str) -> None:
        self._sending[queue] = job_uuid
        self._started[queue] = self._clock()

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
        """Until the first waiting queue (retry or intake spacing) may send; None: none waits."""
        now = self._clock()
        times = [*self._blocked.values(), *self._spaced(now).values()]
        if not times:
            return None
        return max(0.0, min(times) - now)

    def sending(self, queue: str) -> str | None:
        return self._sending.get(queue)
