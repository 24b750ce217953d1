"""A printer out of paper for tests of a separate server process: ``testprinters``'
HostilePrinter (a real IPP server on a socket) on its own event loop in a thread, answering
Get-Printer-Attributes with enough capabilities to take a PDF and ``media-empty-error``."""

from __future__ import annotations

import asyncio
import threading
from typing import Self

from ippproxy.ipp import Attribute, Tag
from testprinters.hostile import HostilePrinter


def media_empty_attributes() -> list[Attribute]:
    return [
        Attribute.single("printer-state", Tag.ENUM, 3),
        Attribute.multi("printer-state-reasons", Tag.KEYWORD, ["media-empty-error"]),
        Attribute.single("printer-state-message", Tag.TEXT, "Tray 1 is empty"),
        Attribute.multi("document-format-supported", Tag.MIME_MEDIA_TYPE,
                        ["application/pdf", "application/octet-stream"]),
        Attribute.single("color-supported", Tag.BOOLEAN, True),
        Attribute.multi("operations-supported", Tag.ENUM, [0x0002, 0x0004, 0x0005, 0x0006,
                                                           0x0008, 0x0009, 0x000A, 0x000B]),
    ]


class ThreadedPrinter:
    """``with ThreadedPrinter(attributes) as p:`` then point a queue at ``p.uri``."""

    def __init__(self, attributes: list[Attribute] | None = None) -> None:
        self.printer = HostilePrinter(attributes if attributes is not None
                                      else media_empty_attributes())
        self.uri = self.printer.uri
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.stop = asyncio.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        async def main() -> None:
            async with self.printer:
                self.ready.set()
                await self.stop.wait()
        self.loop.run_until_complete(main())
        self.loop.close()

    def __enter__(self) -> Self:
        self.thread.start()
        assert self.ready.wait(30), "the printer did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join(30)
