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
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

QUIET = 0.1  # seconds without a submission after which intake counts as idle


class Receiving:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.count = 0
        self._last_end = float("-inf")
        self._admitted: Counter[tuple[str, ...]] = Counter()
        self._locks: dict[tuple[str, ...], asyncio.Lock] = {}

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
            fits = await stored() + self._admitted[key] < cap
            if fits:
                self._admitted[key] += 1
        try:
            yield fits
        finally:
            if fits:
                self._admitted[key] -= 1
                if not self._admitted[key]:
                    del self._admitted[key]
                    if not lock.locked():
                        self._locks.pop(key, None)
