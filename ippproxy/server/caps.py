"""Connection caps for the listener: slots per address and in all, and the descriptor limit.

A slot is taken when a connection is accepted and given back exactly once when its socket is
closed: by the listener before the connection is handed on, or by the protocol's
``connection_lost`` after (``Slot.tracking`` wraps the protocol factory). The total is the
configured ``max_connections``, lowered to the descriptor limit minus ``fd_reserve``
(``raise_fd_limit`` first lifts the soft limit to the hard one, as a server that may hold
many connections should). Refusals are logged at most ``LOG_BURST`` per ``LOG_WINDOW``.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import time
from collections import Counter
from collections.abc import Callable

from ippproxy.server.wrapped import Wrapped

log = logging.getLogger(__name__)

LOG_BURST = 5
LOG_WINDOW = 60.0
# Soft limit used when the hard limit is unlimited (the kernel's nr_open is usually 2**20).
UNLIMITED_FDS = 1 << 20


def raise_fd_limit() -> int:
    """Lift the soft RLIMIT_NOFILE to the hard limit; returns the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = UNLIMITED_FDS if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError) as e:
            log.warning("could not raise the descriptor limit from %d to %d: %s",
                        soft, target, e)
    return UNLIMITED_FDS if soft == resource.RLIM_INFINITY else int(soft)


def connection_limit(max_connections: int, fd_limit: int, fd_reserve: int) -> int:
    """Client connections at most: the configured cap, below the limit minus the reserve."""
    return max(1, min(max_connections, fd_limit - fd_reserve))


class Slot:
    """One connection's place under the caps."""

    def __init__(self, caps: Caps, host: str) -> None:
        self._caps, self._host = caps, host
        self._released = False
        self.handed = False

    def release(self) -> None:
        if not self._released:
            self._released = True
            self._caps.give_back(self._host)

    def tracking(self, factory: Callable[[], asyncio.BaseProtocol]
                 ) -> Callable[[], asyncio.BaseProtocol]:
        """``factory`` whose protocol gives this slot back when its connection is lost."""
        def make() -> asyncio.BaseProtocol:
            inner = factory()
            if not isinstance(inner, asyncio.Protocol):
                raise TypeError(f"a streaming protocol is needed, not {type(inner).__name__}")
            self.handed = True
            return _Tracked(inner, self)
        return make


class _Tracked(Wrapped):
    """Forwards every event to the protocol it wraps; gives its slot back on close."""

    def __init__(self, inner: asyncio.Protocol, slot: Slot) -> None:
        super().__init__(inner)
        self._slot = slot

    def connection_lost(self, exc: Exception | None) -> None:
        try:
            self._inner.connection_lost(exc)
        finally:
            self._slot.release()


class Caps:
    """Open connections in all and per address, against their limits."""

    def __init__(self, total: int = 1 << 30, per_address: int = 1 << 30,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.total, self.per_address = total, per_address
        self.open = 0
        self.by_address: Counter[str] = Counter()
        self.evicted = 0
        self.refusals = 0
        self._clock = clock
        self._window_start = float("-inf")
        self._logged = 0

    def has_room(self) -> bool:
        return self.open < self.total

    def address_has_room(self, host: str) -> bool:
        return self.by_address[host] < self.per_address

    def take(self, host: str) -> Slot:
        self.open += 1
        self.by_address[host] += 1
        return Slot(self, host)

    def give_back(self, host: str) -> None:
        self.open -= 1
        self.by_address[host] -= 1
        if self.by_address[host] <= 0:
            del self.by_address[host]

    def refused(self, host: str, which: str) -> None:
        self.refusals += 1
        now = self._clock()
        if now - self._window_start >= LOG_WINDOW:
            self._window_start, self._logged = now, 0
        if self._logged < LOG_BURST:
            self._logged += 1
            log.warning("connection from %s closed: %s connection limit reached "
                        "(%d open, %d from it; %d refused so far)", host, which, self.open,
                        self.by_address[host], self.refusals)
