"""Printers and queues as the admin pages show them: the destination's live state and
markers, the queue's stored state, its jobs; pause and resume.

The smallest interface the printer pages need until the queues service
(``services/queues.py``) lands. The destination's state, reasons and markers come from
the capabilities cache (``forwarding.capabilities``: RFC 8011 §5.4.11-13 printer-state,
-reasons, -message; PWG 5100.13 / RFC 3805 marker-names, -colors, -levels, -types);
pause and resume write the queue's shared state (``JobStore.set_queue_state``: no job of a
paused queue is claimed, on any node) and hand the new state to ``on_state`` (this node's
printer attributes).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ippproxy.config import QueueConfig
from ippproxy.ipp import Attribute
from ippproxy.jobs.records import QueueStateRecord
from ippproxy.jobs.store import JobStore
from ippproxy.services.actor import Access, Actor, Section
from ippproxy.services.errors import Forbidden, NotFound
from ippproxy.services.printer_watch import StatusSource, state_reasons

# RFC 8011 §5.4.11 printer-state enum values.
_PRINTER_STATES = {3: "idle", 4: "processing", 5: "stopped"}


@dataclass(frozen=True)
class Marker:
    name: str
    colour: str        # marker-colors: "#RRGGBB", "none" or several joined
    level: int         # percent; -1 unavailable, -2 unknown, -3 some left (PWG 5100.13)
    kind: str


@dataclass(frozen=True)
class PrinterView:
    name: str
    info: str
    location: str
    destination: str
    paused: bool
    accepting: bool
    reachable: bool
    state: str                  # the destination's printer-state keyword, "unknown"
    reasons: tuple[str, ...]
    message: str
    markers: tuple[Marker, ...]
    active_jobs: int


def _values(attrs: tuple[Attribute, ...], name: str) -> list[object]:
    for a in attrs:
        if a.name == name:
            return [v for _, v in a.values]
    return []


def markers(attrs: tuple[Attribute, ...]) -> tuple[Marker, ...]:
    names = _values(attrs, "marker-names")
    colours = _values(attrs, "marker-colors")
    levels = _values(attrs, "marker-levels")
    kinds = _values(attrs, "marker-types")
    out = []
    for i, n in enumerate(names):
        level = levels[i] if i < len(levels) else None
        out.append(Marker(str(n), str(colours[i]) if i < len(colours) else "none",
                          level if isinstance(level, int) else -2,
                          str(kinds[i]) if i < len(kinds) else ""))
    return tuple(out)


def view(queue: QueueConfig, destination: str, stored: QueueStateRecord | None,
         attrs: tuple[Attribute, ...] | None, active: int) -> PrinterView:
    stored = stored or QueueStateRecord(queue.name)
    got = attrs or ()
    state = _values(got, "printer-state")
    message = _values(got, "printer-state-message")
    reasons = state_reasons(attrs) if attrs is not None else frozenset({"offline-report"})
    return PrinterView(
        name=queue.name, info=queue.info or queue.name, location=queue.location or "",
        destination=destination, paused=stored.paused, accepting=stored.accepting,
        reachable=attrs is not None and not any(r.startswith("offline") for r in reasons),
        state=_PRINTER_STATES.get(state[0], "unknown") if state and isinstance(state[0], int)
        else "unknown",
        reasons=tuple(sorted(reasons)), message=str(message[0]) if message else "",
        markers=markers(got), active_jobs=active)


class PrinterStatus:
    def __init__(self, queues: Callable[[], Iterable[QueueConfig]], source: StatusSource,
                 store: JobStore, destination: Callable[[QueueConfig], str],
                 on_state: Callable[[QueueStateRecord], None]) -> None:
        self.queues = queues
        self.source = source
        self.store = store
        self.destination = destination
        self.on_state = on_state

    def _queue(self, name: str) -> QueueConfig:
        for q in self.queues():
            if q.name == name:
                return q
        raise NotFound("queue", name)

    async def list(self, actor: Actor) -> list[PrinterView]:
        if not actor.may(Section.PRINTERS, Access.READ):
            raise Forbidden("this needs read access to printers")
        stored = await self.store.queue_states()
        queues = list(self.queues())

        async def one(q: QueueConfig) -> PrinterView:
            attrs = await self.source.printer_attributes(q)
            active = await self.store.count_jobs(q.name, "not-completed")
            return view(q, self.destination(q), stored.get(q.name), attrs, active)

        # Together: a destination that does not answer delays the page once, not per queue.
        return list(await asyncio.gather(*(one(q) for q in queues)))

    async def get(self, actor: Actor, name: str) -> PrinterView:
        for v in await self.list(actor):
            if v.name == name:
                return v
        raise NotFound("queue", name)

    async def set_paused(self, actor: Actor, name: str, paused: bool) -> QueueStateRecord:
        """Pause-Printer / Resume-Printer (RFC 8011 §4.3.7-8) by an operator."""
        if not actor.may(Section.PRINTERS, Access.WRITE):
            raise Forbidden("pausing a queue needs write access to printers")
        q = self._queue(name)
        verb = "paused" if paused else "resumed"
        record = await self.store.set_queue_state(q.name, paused=paused,
                                                  message=f"{verb} by {actor.name}")
        self.on_state(record)
        return record
