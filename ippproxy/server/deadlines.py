"""Deadlines for what a client sends: a whole request head, and silence inside a body.

Theory of operation. aiohttp waits for a request head for as long as the client takes, so a
client that sends one byte and then one more now and then (slowloris) would hold its
connection slot for ever. The listener wraps each connection's protocol in ``Watched``,
which sees every byte before aiohttp does (the plaintext, for TLS: the event loop's
``SSLProtocol`` sits below it) and follows the messages' framing (framing.py):

- from the first byte of a request head to its end, ``head`` seconds in all, however
  steadily the bytes come; then the client gets ``408 Request Timeout`` (RFC 9110 §15.5.9)
  and the connection is closed;
- inside a request body, ``body_idle`` seconds of silence; time in which aiohttp has paused
  reading (its buffer is full: the server, not the client, is slow) does not count, and a
  long upload that keeps sending is never cut; then the connection is closed;
- between requests, nothing here: aiohttp's keep-alive timeout closes idle connections, and
  a request being answered is never cut.

Connections inside a head are also listed in ``Heads``, oldest first: when every connection
slot is taken, the listener closes the oldest of them for a new client (caps.py), as it
closes a connection that has sent nothing. A client whose head arrives in one piece is never
on that list for long.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, cast

from ippproxy.server.framing import Framing, Phase
from ippproxy.server.wrapped import Wrapped

log = logging.getLogger(__name__)

_TIMEOUT_TEXT = b"request head not complete in time\n"
TIMEOUT_ANSWER = (b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n"
                  b"Content-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s"
                  % (len(_TIMEOUT_TEXT), _TIMEOUT_TEXT))

ProtocolFactory = Callable[[], asyncio.BaseProtocol]


class _Connection(Protocol):
    """What is used of a transport: asyncio's and uvloop's (which does not derive from
    ``asyncio.Transport``) both have it."""

    def write(self, data: bytes) -> None: ...
    def close(self) -> None: ...
    def abort(self) -> None: ...
    def is_closing(self) -> bool: ...
    def is_reading(self) -> bool: ...
    def get_write_buffer_size(self) -> int: ...


@dataclass(frozen=True)
class Deadlines:
    head: float          # seconds for a whole request head (0: none)
    body_idle: float     # seconds of silence inside a request body (0: none)


class Heads:
    """The connections inside a request head, oldest first; counts what was cut."""

    def __init__(self) -> None:
        self._open: dict[Watched, float] = {}     # when its head began (loop time)
        self.timed_out = 0
        self.idle_bodies = 0
        self.evicted = 0

    def __len__(self) -> int:
        return len(self._open)

    def add(self, watched: Watched, began: float) -> None:
        self._open.setdefault(watched, began)

    def discard(self, watched: Watched) -> None:
        self._open.pop(watched, None)

    def oldest(self) -> float | None:
        """When the longest head in progress began (loop time); None if there is none."""
        return next(iter(self._open.values()), None)

    def evict_oldest(self) -> None:
        """Close the connection that has been inside its head longest."""
        oldest = next(iter(self._open), None)
        if oldest is not None:
            self.discard(oldest)
            self.evicted += 1
            oldest.abort()


def watching(factory: ProtocolFactory, deadlines: Deadlines, heads: Heads) -> ProtocolFactory:
    """``factory`` whose protocols are held to ``deadlines``."""
    def make() -> asyncio.BaseProtocol:
        inner = factory()
        if not isinstance(inner, asyncio.Protocol):
            raise TypeError(f"a streaming protocol is needed, not {type(inner).__name__}")
        return Watched(inner, deadlines, heads)
    return make


class Watched(Wrapped):
    """Forwards every event to the protocol it wraps; closes it when a deadline passes."""

    def __init__(self, inner: asyncio.Protocol, deadlines: Deadlines, heads: Heads) -> None:
        super().__init__(inner)
        self._deadlines, self._heads = deadlines, heads
        self._framing = Framing()
        self._transport: _Connection | None = None
        self._head_timer: asyncio.TimerHandle | None = None
        self._idle_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(_Connection, transport)
        self._inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        begun = self._framing.heads
        self._framing.feed(data)
        phase = self._framing.phase
        if phase is Phase.HEAD:
            if self._head_timer is None or self._framing.heads != begun:
                self._start_head()
        else:
            self._stop_head()
        if phase is Phase.BODY:
            self._start_idle()
        else:
            self._stop_idle()
        self._inner.data_received(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head()
        self._stop_idle()
        self._inner.connection_lost(exc)

    def abort(self) -> None:
        self._stop_head()
        self._stop_idle()
        if self._transport is not None:
            self._transport.abort()

    def _start_head(self) -> None:
        self._stop_head()
        loop = asyncio.get_running_loop()
        if self._deadlines.head > 0:
            self._head_timer = loop.call_later(self._deadlines.head, self._head_expired)
        self._heads.add(self, loop.time())

    def _stop_head(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None
        self._heads.discard(self)

    def _start_idle(self) -> None:
        self._stop_idle()
        if self._deadlines.body_idle > 0:
            loop = asyncio.get_running_loop()
            self._idle_timer = loop.call_later(self._deadlines.body_idle, self._idle_expired)

    def _stop_idle(self) -> None:
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None

    def _head_expired(self) -> None:
        self._head_timer = None
        self._heads.discard(self)
        self._heads.timed_out += 1
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        log.debug("request head not complete after %.1f s; closing", self._deadlines.head)
        if transport.get_write_buffer_size() == 0:
            transport.write(TIMEOUT_ANSWER)
            transport.close()
        else:
            transport.abort()

    def _idle_expired(self) -> None:
        self._idle_timer = None
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        if not transport.is_reading():    # aiohttp paused reading: the server is behind
            self._start_idle()
            return
        log.debug("request body silent for %.1f s; closing", self._deadlines.body_idle)
        self._heads.idle_bodies += 1
        transport.abort()
