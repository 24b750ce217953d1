"""Whether job submissions are being received.

Print-Job, Create-Job and Send-Document hold a client that waits for our answer (``lp``
blocks, a driver shows "printing..."). While any is in flight, or one ended less than
``QUIET`` seconds ago (a client sending job after job has a gap of one round trip
between them), the Forwarder spaces out its sends (forwarding/order.py): acknowledging
a burst of jobs comes before delivering them, which a printer does at its own pace of
seconds per page anyway. Only the composition root hands this to the Forwarder;
dispatch counts the submissions.
"""

from __future__ import annotations

import time
from collections.abc import Callable

QUIET = 0.1  # seconds without a submission after which intake counts as idle


class Receiving:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.count = 0
        self._last_end = float("-inf")

    def begin(self) -> None:
        self.count += 1

    def end(self) -> None:
        self.count -= 1
        self._last_end = self._clock()

    def __call__(self) -> bool:
        """True while a submission is being received, or one just was."""
        return self.count > 0 or self._clock() - self._last_end < QUIET
