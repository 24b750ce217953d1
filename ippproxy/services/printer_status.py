"""Printers and queues as the admin pages show them, read only: the catalog's queues
(``QueueService.list``: configuration, provisioned or not, paused, accepting) with the
destination's live state and markers and the queue's unfinished jobs.

The destination's state, reasons and markers come from the capabilities cache
(``forwarding.capabilities``: RFC 8011 §5.4.11-13 printer-state, -reasons, -message;
PWG 5100.13 / RFC 3805 marker-names, -colors, -levels, -types). Every change (pause,
resume, create, update, delete) goes through ``QueueService``, which checks and audits it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from ippproxy.config import QueueConfig
from ippproxy.ipp import Attribute
from ippproxy.jobs.store import JobStore
from ippproxy.services.actor import Actor
from ippproxy.services.errors import NotFound
from ippproxy.services.printer_watch import StatusSource, state_reasons
from ippproxy.services.queues import QueueService, QueueView

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
    provisioned: bool
    cost_model: str
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


def view(stored: QueueView, destination: str, attrs: tuple[Attribute, ...] | None,
         active: int) -> PrinterView:
    queue = stored.config
    got = attrs or ()
    state = _values(got, "printer-state")
    message = _values(got, "printer-state-message")
    reasons = state_reasons(attrs) if attrs is not None else frozenset({"offline-report"})
    return PrinterView(
        name=queue.name, info=queue.info or queue.name, location=queue.location or "",
        destination=destination, provisioned=stored.provisioned,
        cost_model=queue.cost_model or "", paused=stored.paused, accepting=stored.accepting,
        reachable=attrs is not None and not any(r.startswith("offline") for r in reasons),
        state=_PRINTER_STATES.get(state[0], "unknown") if state and isinstance(state[0], int)
        else "unknown",
        reasons=tuple(sorted(reasons)), message=str(message[0]) if message else "",
        markers=markers(got), active_jobs=active)


class PrinterStatus:
    def __init__(self, queues: QueueService, source: StatusSource, store: JobStore,
                 destination: Callable[[QueueConfig], str]) -> None:
        self.queues = queues
        self.source = source
        self.store = store
        self.destination = destination

    async def list(self, actor: Actor) -> list[PrinterView]:
        stored = await self.queues.list(actor)     # read access to printers, or Forbidden

        async def one(q: QueueView) -> PrinterView:
            attrs = await self.source.printer_attributes(q.config)
            active = await self.store.count_jobs(q.config.name, "not-completed")
            return view(q, self.destination(q.config), attrs, active)

        # Together: a destination that does not answer delays the page once, not per queue.
        return list(await asyncio.gather(*(one(q) for q in stored)))

    async def get(self, actor: Actor, name: str) -> PrinterView:
        for v in await self.list(actor):
            if v.name == name:
                return v
        raise NotFound("queue", name)
