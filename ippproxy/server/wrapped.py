"""A streaming protocol that hands every event to the protocol it wraps.

The listener's connection wrappers (caps.py's slot keeper, deadlines.py's timers) each add
one concern around aiohttp's own protocol; this base forwards the rest unchanged, so that a
wrapper overrides only the events it watches (asyncio.Protocol, asyncio docs "Streaming
Protocols")."""

from __future__ import annotations

import asyncio


class Wrapped(asyncio.Protocol):
    """Forwards every event to ``inner``."""

    def __init__(self, inner: asyncio.Protocol) -> None:
        self._inner = inner

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received()

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        self._inner.connection_lost(exc)
