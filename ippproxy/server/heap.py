"""The server's heap: its start-up frozen out of the cyclic collector's reach, and the
collector's pauses counted.

Theory of operation
-------------------
CPython frees most objects by reference counting; its cyclic garbage collector only finds
cycles, by visiting every tracked container of a generation. A full collection (the
oldest generation) visits every such container still alive, and after start-up that is
hundreds of thousands of them: the imported modules, the database tables and compiled
statements, the web routes, the IPP registries. None of them will ever be garbage, yet
a busy server ran full collections every few seconds, each one a pause of the event loop
(and, as it holds the GIL, of the job store's writer) far longer than a request's whole
service time (README, "Intake, twenty-fourth session").

``gc.freeze()`` (Python documentation, ``gc`` module) moves every object alive at that
moment into a permanent generation that collections skip. :func:`freeze` runs once, after
a collection, when the server is ready to accept: from then on only what the server made
since is visited. :func:`thaw` gives the objects back when the server stops (the process
may go on, as a test's does).

:class:`Pauses` times every collection through ``gc.callbacks`` for the
``ippproxy_gc_pause_seconds`` histogram. The callback runs in whichever thread's
allocation started the collection, perhaps while that thread holds a lock, such as a
metric's own: so it takes none, and only adds to plain numbers, which the metrics read at
a scrape (a collection holds the GIL from its start to its end, so no two overlap).
"""

from __future__ import annotations

import bisect
import contextlib
import gc
import time
from typing import Any

GENERATIONS = 3
# A young collection takes well under a millisecond; a full one of an unfrozen heap, a
# tenth of a second.
PAUSE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)


def freeze() -> int:
    """Collect, then freeze everything alive; the number of objects frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def thaw() -> None:
    gc.unfreeze()


class Pauses:
    """The collector's pauses by generation, counted from :meth:`start` to :meth:`stop`."""

    def __init__(self) -> None:
        self._counts = [[0] * (len(PAUSE_BUCKETS) + 1) for _ in range(GENERATIONS)]
        self._seconds = [0.0] * GENERATIONS
        self._started = 0.0

    def start(self) -> None:
        if self._callback not in gc.callbacks:
            gc.callbacks.append(self._callback)

    def stop(self) -> None:
        with contextlib.suppress(ValueError):
            gc.callbacks.remove(self._callback)

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        now = time.perf_counter()
        if phase == "start":
            self._started = now
            return
        generation = info.get("generation")
        if not isinstance(generation, int) or not 0 <= generation < GENERATIONS:
            return
        took = now - self._started
        self._seconds[generation] += took
        self._counts[generation][bisect.bisect_left(PAUSE_BUCKETS, took)] += 1

    def snapshot(self) -> list[tuple[int, tuple[int, ...], float]]:
        """Per generation: its pauses per bucket of PAUSE_BUCKETS (then above the last),
        and their seconds in all."""
        return [(g, tuple(self._counts[g]), self._seconds[g]) for g in range(GENERATIONS)]
