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
too many, within one node).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

QUIET = 0.1  # seconds without a submission after which intake counts as idle


class Receiving:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.count = 0
        self._last_end = float("-inf")
        self._admitted: Counter[str] = Counter()
        self._locks: dict[str, asyncio.Lock] = {}

    def begin(self) -> None:
        self.count += 1

    def end(self) -> None:
        self.count -= 1
        self._last_end = self._clock()

    def __call__(self) -> bool:
        """True while a submission is being received, or one just was."""
        return self.count > 0 or self._clock() - self._last_end < QUIET

    @asynccontextmanager
    async def admit(self, user: str, cap: int,
                    stored: Callable[[], Awaitable[int]]) -> AsyncIterator[bool]:
        """Yields whether one more job of ``user`` fits under ``cap`` (0: no cap), counting
        ``stored()`` and the admitted submissions still running; an admitted one counts
        until the block ends."""
        if not cap:
            yield True
            return
        lock = self._locks.setdefault(user, asyncio.Lock())
        async with lock:
            fits = await stored() + self._admitted[user] < cap
            if fits:
                self._admitted[user] += 1
        try:
            yield fits
        finally:
            if fits:
                self._admitted[user] -= 1
                if not self._admitted[user]:
                    del self._admitted[user]
                    if not lock.locked():
                        self._locks.pop(user, None)
