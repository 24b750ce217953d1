"""Server-sent events, parsed without I/O (HTML Living Standard §9.2.6 "Interpreting an
event stream"): lines in, ``Event`` records out.

Each record ends at a blank line; ``event`` names it (default ``message``), ``data`` lines
are joined with newlines, ``id`` sets the last event id (kept across records, sent back as
``Last-Event-ID`` when reconnecting), ``retry`` the reconnection time in milliseconds. Lines
starting with a colon are comments (the server's keep-alive)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Event:
    kind: str
    data: str
    id: str | None


class EventParser:
    def __init__(self) -> None:
        self.last_id: str | None = None
        self.retry_ms: int | None = None
        self._kind = ""
        self._data: list[str] = []

    def feed_line(self, line: str) -> Event | None:
        """One line without its end-of-line; the event it completes, if any."""
        if line == "":
            return self._dispatch()
        if line.startswith(":"):
            return None
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "event":
            self._kind = value
        elif name == "data":
            self._data.append(value)
        elif name == "id" and "\x00" not in value:
            self.last_id = value
        elif name == "retry" and value.isdigit():
            self.retry_ms = int(value)
        return None

    def _dispatch(self) -> Event | None:
        kind, data = self._kind or "message", self._data
        self._kind, self._data = "", []
        if not data:
            return None
        return Event(kind, "\n".join(data), self.last_id)
