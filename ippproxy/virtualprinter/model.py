"""The virtual printer as its operations (handlers.py) and its control endpoint
(control.py) see it: a request's document stream and the printer's state.

``printer.VirtualPrinter`` implements :class:`PrinterModel` and imports those modules;
they import only this one, so that the printer is the top of the package.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from aiohttp import web

from ippproxy.ipp import Attribute
from ippproxy.virtualprinter.job import VirtualJob

CHUNK = 256 * 1024


class BodyReader:
    """The document bytes of a request: what the decoder already read, then the stream."""

    def __init__(self, first: bytes, request: web.Request) -> None:
        self.first = first
        self.request = request

    async def chunks(self) -> AsyncIterator[bytes]:
        if self.first:
            yield self.first
        async for chunk in self.request.content.iter_chunked(CHUNK):
            yield chunk


class PrinterModel(Protocol):
    """What an operation or a control request reads and changes of the printer."""

    @property
    def uri(self) -> str: ...

    @property
    def jobs(self) -> dict[int, VirtualJob]: ...

    @property
    def formats(self) -> tuple[str, ...]: ...

    @property
    def sides(self) -> tuple[str, ...]: ...

    @property
    def list_job_uuid(self) -> bool: ...

    @property
    def accepting(self) -> bool: ...

    @property
    def fault(self) -> str | None: ...

    @property
    def online(self) -> bool: ...

    async def next_job_id(self) -> int: ...

    def cancel(self, job: VirtualJob) -> None: ...

    async def receive_document(self, job: VirtualJob, body: BodyReader,
                               compression: str) -> None: ...

    def printer_state(self) -> tuple[int, tuple[str, ...], str]: ...

    def printer_attributes(self) -> list[Attribute]: ...

    async def set_state(self, state: str) -> None: ...

    def lose_next_response(self, operation: str = "Print-Job") -> None: ...

    def lose_response_if_armed(self, operation: str) -> None: ...
