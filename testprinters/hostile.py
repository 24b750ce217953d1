"""A hostile IPP printer: a real IPP server on a socket whose answers carry bad data.

Every Get-Printer-Attributes is answered with ``attributes`` (by default
``hostile_attributes()``: one example of each class a printer must not get through to
our clients, issue 15 §4); any other operation succeeds with ``job`` as the job's
attributes (by default a completed job).  The
bytes of an answer can be dribbled out (``byte_delay`` seconds between bytes) to play
a printer that answers one byte at a time; operations in ``silent`` are never answered.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Sequence

from aiohttp import web

from ippproxy.ipp import (
    Attribute,
    DecodeError,
    Group,
    JobState,
    Operation,
    RangeOfInteger,
    Status,
    StringWithLanguage,
    Tag,
    decode,
    encode,
    make_response,
)

INVENTED = 5000           # invented media-* attributes in the hostile answer


def hostile_attributes() -> list[Attribute]:
    """One Get-Printer-Attributes answer with each class of hostile value."""
    return [
        Attribute.single("printer-state", Tag.ENUM, 3),
        # control characters in keywords, names, octetStrings and text (CVE-2024-47175)
        Attribute.multi("printer-state-reasons", Tag.KEYWORD, ["x\r\ny", "media-low-warning"]),
        Attribute.multi("marker-names", Tag.NAME, ["Black\r\n*cupsFilter2: evil", "Cyan"]),
        Attribute.multi("marker-types", Tag.KEYWORD, ["toner", "toner"]),
        Attribute.multi("marker-colors", Tag.NAME, ["#000000", "#00FFFF"]),
        Attribute.multi("marker-levels", Tag.INTEGER, [250, -1]),    # 250 % is out of range
        Attribute.multi("printer-supply", Tag.OCTET_STRING,
                        [b"index=1;type=toner;\r\n*Evil: x", b"index=2;type=toner;level=40;"]),
        # a wrong value tag beside a right one
        Attribute("media-type-supported", ((int(Tag.MIME_MEDIA_TYPE), "application/pdf"),
                                           (int(Tag.KEYWORD), "stationery"))),
        # a bidi override (U+202E) and an over-long text
        Attribute.single("printer-make-and-model", Tag.TEXT_WITH_LANGUAGE,
                         StringWithLanguage("en", "Evil \u202egnp.exe Printer")),
        Attribute.single("printer-state-message", Tag.TEXT, "z" * 5000),
        Attribute.single("printer-device-id", Tag.TEXT, "MFG:Evil;\u2066MDL:x;\x00"),
        # out-of-range and negative integers
        Attribute.single("pages-per-minute", Tag.INTEGER, -1),
        Attribute.single("copies-supported", Tag.RANGE_OF_INTEGER,
                         RangeOfInteger(-5, 2**31 - 1)),
        Attribute.single("copies-default", Tag.INTEGER, 0),
        Attribute.multi("orientation-requested-supported", Tag.ENUM, [3, 4, 99]),
        Attribute.single("color-supported", Tag.BOOLEAN, True),
        Attribute.multi("sides-supported", Tag.KEYWORD, ["one-sided", "two-sided-long-edge"]),
        # attributes no printer has
        *(Attribute.single(f"media-invented-{i}-supported", Tag.KEYWORD, "x")
          for i in range(INVENTED)),
        Attribute.single("x-evil", Tag.TEXT, "nobody knows me"),
    ]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class HostilePrinter:
    """``async with HostilePrinter() as p:`` then point a queue at ``p.uri``."""

    def __init__(self, attributes: Sequence[Attribute] | None = None, *,
                 job: Sequence[Attribute] | None = None, byte_delay: float = 0.0,
                 silent: frozenset[int] = frozenset()) -> None:
        self.attributes = tuple(hostile_attributes() if attributes is None else attributes)
        self.job = tuple(job) if job is not None else None   # every job-attributes answer
        self.byte_delay = byte_delay
        self.port = _free_port()
        self.uri = f"ipp://127.0.0.1:{self.port}/ipp/print"
        self.requests: list[int] = []          # operation codes received
        self.silent = silent                   # operations never answered
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> HostilePrinter:  # noqa: PYI034
        app = web.Application(client_max_size=1 << 30)
        app.router.add_post("/ipp/print", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        try:
            msg = decode(body)
        except DecodeError:
            return web.Response(status=400)
        self.requests.append(msg.code)
        if msg.code in self.silent:
            await self._closing.wait()          # a printer that never answers
            return web.Response(status=503)
        if msg.code == Operation.GET_PRINTER_ATTRIBUTES:
            groups = (Group(Tag.PRINTER_ATTRIBUTES, self.attributes),)
        elif self.job is not None:
            groups = (Group(Tag.JOB_ATTRIBUTES, self.job),)
        else:
            groups = (Group(Tag.JOB_ATTRIBUTES, (
                Attribute.single("job-id", Tag.INTEGER, 1),
                Attribute.single("job-uri", Tag.URI, f"{self.uri}/1"),
                Attribute.single("job-state", Tag.ENUM, JobState.COMPLETED))),)
        data = encode(make_response(msg.version, msg.request_id, Status.SUCCESSFUL_OK,
                                    groups=groups))
        response = web.StreamResponse(headers={"Content-Type": "application/ipp"})
        response.content_length = len(data)
        await response.prepare(request)
        if self.byte_delay <= 0:
            await response.write(data)
        else:
            for i in range(len(data)):
                await response.write(data[i:i + 1])
                await asyncio.sleep(self.byte_delay)
        await response.write_eof()
        return response
