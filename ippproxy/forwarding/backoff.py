"""Retry schedule for destinations that are down or busy: capped exponential back-off.

attempt 1 waits ``initial``, each further attempt doubles it, up to ``maximum``;
a jitter of up to +``jitter`` (fraction) spreads retries of many jobs to one
printer that comes back, so they do not all knock at the same instant.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    initial: float = 2.0
    maximum: float = 60.0
    factor: float = 2.0
    jitter: float = 0.1

    def delay(self, attempt: int, rand: float | None = None) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based)."""
        n = max(1, attempt)
        base = min(self.maximum, self.initial * self.factor ** min(n - 1, 64))
        r = random.random() if rand is None else rand
        return min(self.maximum, base * (1.0 + self.jitter * r))
