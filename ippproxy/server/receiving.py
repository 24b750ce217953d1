"""Whether job submissions are being received.

Print-Job, Create-Job and Send-Document hold a client that waits for our answer (``lp``
blocks, a driver shows "printing..."). While any is in flight, or one ended less than
``QUIET`` seconds ago (a client sending job after job has a gap of one round trip
between them), the Forwarder spaces out its sends (forwarding/order.py): acknowledging
a burst of jobs comes before delivering them, which a printer does at its own pace of
seconds per page anyway. Only the composition root hands this to the Forwarder;
dispatch counts the submissions.

Per user, the submissions admitted under the job cap and not yet stored are counted too
(``admit``): a user's jobs not yet completed are the stored ones plus these, so a burst of
concurrent Create-Jobs cannot pass ``server.max_jobs_per_user`` (a request that has just
stored its job still counts until it ends, so a burst may be refused a job early; never one
too many, within one node). The node's own cap on all jobs not yet completed
(``server.max_active_jobs``, ``admit_any``) is counted the same way.

The stored count is not read for every submission: that read, under the cap's lock, made
every Print-Job of the node wait in line for a COUNT over the job table (bench_intake:
about half the jobs/s). A count read once stays an upper bound of this node's share: the
submissions admitted since then are added to it whether or not they stored a job (a job that
completed since only makes it high). So a submission that fits under that bound is admitted
without a read; the count is read again before any refusal (a refusal is always exact) and
when the bound is older than ``RECOUNT`` seconds, which is how long jobs other nodes on the
same database created can go unseen.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass

QUIET = 0.1  # seconds without a submission after which intake counts as idle
RECOUNT = 1.0  # seconds an upper bound of the stored count is trusted (other nodes' jobs)
MAX_BOUNDS = 10_000  # remembered bounds (one per user); stale ones are dropped past this


@dataclass
class _Bound:
    """An upper bound of the stored jobs not yet completed: the count read at ``at`` plus
    every admission that ended since (each may have stored a job)."""

    stored: int
    at: float


class Receiving:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.count = 0
        self._last_end = float("-inf")
        self._admitted: Counter[tuple[str, ...]] = Counter()
        self._locks: dict[tuple[str, ...], asyncio.Lock] = {}
        self._bounds: dict[tuple[str, ...], _Bound] = {}

    def begin(self) -> None:
        self.count += 1

    def end(self) -> None:
        self.count -= 1
        self._last_end = self._clock()

    def __call__(self) -> bool:
        """True while a submission is being received, or one just was."""
        return self.count > 0 or self._clock() - self._last_end < QUIET

    def admit(self, user: str, cap: int,
              stored: Callable[[], Awaitable[int]]) -> AbstractAsyncContextManager[bool]:
        """Yields whether one more job of ``user`` fits under ``cap`` (0: no cap), counting
        ``stored()`` and the admitted submissions still running; an admitted one counts
        until the block ends."""
        return self._admit(("user", user), cap, stored)

    def admit_from(self, address: str, cap: int,
                   stored: Callable[[], Awaitable[int]]) -> AbstractAsyncContextManager[bool]:
        """As ``admit``, for the jobs that name nobody proven, by the network address they
        came from (a "popup" queue's jobs before their user proves who printed them)."""
        return self._admit(("address", address), cap, stored)

    def admit_any(self, cap: int,
                  stored: Callable[[], Awaitable[int]]) -> AbstractAsyncContextManager[bool]:
        """As ``admit``, for all jobs not yet completed whoever owns them."""
        return self._admit(("all",), cap, stored)

    @asynccontextmanager
    async def _admit(self, key: tuple[str, ...], cap: int,
                     stored: Callable[[], Awaitable[int]]) -> AsyncIterator[bool]:
        if not cap:
            yield True
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            bound = self._bounds.get(key)
            if (bound is None or self._clock() - bound.at > RECOUNT
                    or bound.stored + self._admitted[key] >= cap):
                bound = _Bound(await stored(), self._clock())
                self._remember(key, bound)
            fits = bound.stored + self._admitted[key] < cap
            if fits:
                self._admitted[key] += 1
        try:
            yield fits
        finally:
            if fits:
                self._admitted[key] -= 1
                if key in self._bounds:
                    self._bounds[key].stored += 1   # it may have stored a job
                if not self._admitted[key]:
                    del self._admitted[key]
                    if not lock.locked():
                        self._locks.pop(key, None)

    def _remember(self, key: tuple[str, ...], bound: _Bound) -> None:
        self._bounds[key] = bound
        if len(self._bounds) > MAX_BOUNDS:
            now = self._clock()
            for k in [k for k, b in self._bounds.items() if now - b.at > RECOUNT]:
                del self._bounds[k]
