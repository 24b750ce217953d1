"""What a destination printer can do, read before a queue is made for it: the admin's
"add a queue from a URI" shows it (printer-make-and-model, document-format-supported,
color-supported, sides-supported, media-supported, printer-state; RFC 8011 §5.4, PWG
5100.7). One Get-Printer-Attributes through the forwarding package's IPP client, with a
time limit; nothing is cached and nothing is stored. The URI is checked as a queue's
``destination`` is (``config.queue_from_dict``), so the probe reaches nothing a queue could
not.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from ippproxy.config import BUILTIN_DESTINATION, ConfigError, queue_from_dict
from ippproxy.forwarding.errors import DestinationRejected, DestinationUnavailable
from ippproxy.ipp import Group

from .actor import Access, Actor, Section
from .changes import require
from .errors import Conflict, Invalid

PROBE_SECONDS = 10.0
# RFC 8011 §5.4.11 printer-state enum values.
_STATES = {3: "idle", 4: "processing", 5: "stopped"}


class AttributesClient(Protocol):
    """``forwarding.client.DestinationClient`` as far as the probe uses it."""

    async def get_printer_attributes(self, refresh: bool = False) -> Group: ...


@dataclass(frozen=True)
class Capabilities:
    uri: str
    make_and_model: str
    info: str
    location: str
    state: str
    formats: tuple[str, ...]
    colour: bool
    sides: tuple[str, ...]
    media: tuple[str, ...]


def _texts(group: Group, name: str) -> tuple[str, ...]:
    a = group.get(name)
    return tuple(str(v) for v in a.plain) if a is not None else ()


def _flag(group: Group, name: str) -> bool:
    a = group.get(name)
    return a is not None and any(v is True for v in a.plain)


def capabilities(uri: str, group: Group) -> Capabilities:
    state = group.get("printer-state")
    first = state.plain[0] if state is not None and state.plain else None
    return Capabilities(
        uri=uri, make_and_model=" ".join(_texts(group, "printer-make-and-model")),
        info=" ".join(_texts(group, "printer-info")),
        location=" ".join(_texts(group, "printer-location")),
        state=_STATES.get(first, "unknown") if isinstance(first, int) else "unknown",
        formats=_texts(group, "document-format-supported"),
        colour=_flag(group, "color-supported"),
        sides=_texts(group, "sides-supported"), media=_texts(group, "media-supported"))


class DestinationProbe:
    def __init__(self, client: Callable[[str], AttributesClient]) -> None:
        self.client = client   # a new, uncached client of the URI (the composition root's)

    async def capabilities(self, actor: Actor, uri: str) -> Capabilities:
        require(actor, Section.PRINTERS, Access.WRITE)
        uri = uri.strip()
        if uri == BUILTIN_DESTINATION:
            raise Invalid("destination", "the built-in printer needs no look")
        try:
            queue_from_dict("destination", {"name": "probe", "destination": uri})
        except ConfigError as e:
            raise Invalid("destination", str(e).split(": ", 1)[-1]) from None
        try:
            async with asyncio.timeout(PROBE_SECONDS):
                group = await self.client(uri).get_printer_attributes(refresh=True)
        except TimeoutError:
            raise Conflict(f"{uri} did not answer within {PROBE_SECONDS:.0f} s") from None
        except (DestinationUnavailable, DestinationRejected) as e:
            raise Conflict(f"{uri} cannot be reached: {e}") from None
        return capabilities(uri, group)
