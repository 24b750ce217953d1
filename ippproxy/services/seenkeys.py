"""``SeenKeys``: the (job uuid, state) pairs a store poller has already acted on.

The job feed (events.py) and the job log (joblog.py) each re-read an overlap of recent
changes on every poll, so that a change committed late is not missed; this remembers the
newest ``limit`` keys so that nothing is published or logged twice.
"""

from __future__ import annotations

import collections


class SeenKeys:
    def __init__(self, limit: int) -> None:
        self._keys: collections.OrderedDict[tuple[str, int], None] = collections.OrderedDict()
        self._limit = limit

    def __contains__(self, key: tuple[str, int]) -> bool:
        return key in self._keys

    def first(self, key: tuple[str, int]) -> bool:
        """True the first time ``key`` is seen (and remembers it)."""
        if key in self._keys:
            return False
        self._keys[key] = None
        if len(self._keys) > self._limit:
            self._keys.popitem(last=False)
        return True
