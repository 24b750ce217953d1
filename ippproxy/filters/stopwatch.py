"""``Stopwatch``: the stages of one analysis and the seconds each took, in order.

Always on, so that a slow document (or a slow machine) shows where its time went
(``DocumentAnalysis.stages``, model.STAGES); a lap costs one ``perf_counter`` call.
"""

from __future__ import annotations

import time


class Stopwatch:
    def __init__(self) -> None:
        self.start = self._last = time.perf_counter()
        self.laps: list[tuple[str, float]] = []

    def lap(self, stage: str) -> None:
        """Close ``stage``: the time since the previous lap (or the start) was spent in it."""
        now = time.perf_counter()
        self.laps.append((stage, now - self._last))
        self._last = now

    def skip(self) -> None:
        """Time since the previous lap belongs to no stage (e.g. the dispatch)."""
        self._last = time.perf_counter()

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.start
