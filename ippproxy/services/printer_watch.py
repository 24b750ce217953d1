"""Destination printers going offline, out of paper or into an error, as live events.

While a dashboard listens (``EventHub.has_subscribers``), :class:`PrinterWatch` reads each
queue's destination state from the capabilities cache (forwarding's
``DestinationCapabilities``, which refreshes it) and publishes what changed in
``printer-state-reasons`` (RFC 8011 §5.4.12): offline (also a destination never reached),
out of paper (``media-empty``, ``media-needed``), other ``-error`` reasons as alerts, and
back online. Each node watches its own view of the printers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from typing import Protocol

from ippproxy.config import QueueConfig
from ippproxy.ipp import Attribute
from ippproxy.services.events import EventHub, EventKind

log = logging.getLogger(__name__)


class StatusSource(Protocol):
    """What :class:`PrinterWatch` reads (forwarding's ``DestinationCapabilities``)."""

    async def printer_attributes(self, queue: QueueConfig) -> tuple[Attribute, ...] | None: ...


def state_reasons(attrs: Iterable[Attribute] | None) -> frozenset[str]:
    for a in attrs or ():
        if a.name == "printer-state-reasons":
            return frozenset(str(v) for _, v in a.values) - {"none"}
    return frozenset()


def _base(reason: str) -> str:
    # RFC 8011 §5.4.12: a reason may carry a -report, -warning or -error suffix.
    for suffix in ("-report", "-warning", "-error"):
        if reason.endswith(suffix):
            return reason[: -len(suffix)]
    return reason


def printer_events(before: frozenset[str], after: frozenset[str]
                   ) -> list[tuple[EventKind, str]]:
    """What changed between two readings of printer-state-reasons."""
    out: list[tuple[EventKind, str]] = []
    was_off = any(_base(r) == "offline" for r in before)
    is_off = any(_base(r) == "offline" for r in after)
    if is_off and not was_off:
        out.append((EventKind.PRINTER_OFFLINE, "the printer cannot be reached"))
    elif was_off and not is_off:
        out.append((EventKind.PRINTER_ONLINE, "the printer is reachable again"))
    for r in sorted(after - before):
        if _base(r) in ("media-empty", "media-needed"):
            out.append((EventKind.PRINTER_MEDIA_EMPTY, r))
        elif r.endswith("-error") and _base(r) != "offline":
            out.append((EventKind.PRINTER_ALERT, r))
    return out


class PrinterWatch:
    def __init__(self, hub: EventHub, source: StatusSource,
                 queues: Callable[[], Iterable[QueueConfig]], *, interval: float = 5.0) -> None:
        self.hub, self.source, self.queues, self.interval = hub, source, queues, interval
        self._last: dict[str, frozenset[str]] = {}

    async def run(self) -> None:
        while True:
            await self.hub.has_subscribers.wait()
            try:
                await self.check()
            except Exception:
                log.exception("printer watch failed")
            await asyncio.sleep(self.interval)

    async def check(self) -> None:
        for queue in list(self.queues()):
            attrs = await self.source.printer_attributes(queue)
            # None: never reached (RFC 8011 §5.4.12 offline-report, as the IPP side says).
            now = state_reasons(attrs) if attrs is not None else frozenset({"offline-report"})
            before = self._last.get(queue.name)
            self._last[queue.name] = now
            if before is None:      # the first reading: what is wrong now is news
                before = frozenset()
            for kind, message in printer_events(before, now):
                self.hub.publish(kind, queue=queue.name, message=message)
