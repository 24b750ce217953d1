"""A printer whose Send-Document can be held: an IPP relay in front of a real printer.

``SendDocumentGate(printer_uri)`` listens on a loopback port of its own and passes every
IPP request to the printer behind it and the printer's answer back, byte for byte. While
``hold`` is set, a Send-Document (RFC 8011 §4.3.1) is read whole and then neither passed on
nor answered: the printer keeps the job Create-Job made, without its document, and
``held`` is set so that a test can kill the sender at exactly that moment. Requests that
arrive later pass again once ``hold`` is cleared.

It runs its own event loop in a thread, so synchronous tests can start and stop it.
"""

from __future__ import annotations

import asyncio
import struct
import threading
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from ippproxy.ipp import Operation

from .ports import free_port


class SendDocumentGate:
    def __init__(self, printer_uri: str) -> None:
        parts = urlsplit(printer_uri)
        self.path = parts.path or "/ipp/print"
        self.target = f"http://{parts.hostname}:{parts.port or 631}{self.path}"
        self.port = free_port()
        self.uri = f"ipp://127.0.0.1:{self.port}{self.path}"
        self.hold = threading.Event()       # set: Send-Document is held, not passed on
        self.held = threading.Event()       # set once a Send-Document was held
        self.operations: list[int] = []     # operation codes passed on or held, in order
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopping: asyncio.Event | None = None
        self._session: aiohttp.ClientSession | None = None

    def start(self) -> SendDocumentGate:
        ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(ready,), daemon=True,
                                        name="send-document-gate")
        self._thread.start()
        if not ready.wait(20):
            raise RuntimeError("the Send-Document gate did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        if self._thread is not None:
            self._thread.join(20)
        self._thread = self._loop = None

    def _serve(self, ready: threading.Event) -> None:
        asyncio.run(self._main(ready))

    async def _main(self, ready: threading.Event) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        app = web.Application(client_max_size=1 << 30)
        app.router.add_post(self.path, self._relay)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        async with aiohttp.ClientSession() as session:
            self._session = session
            await web.TCPSite(runner, "127.0.0.1", self.port).start()
            ready.set()
            await self._stopping.wait()
            await runner.cleanup()

    async def _relay(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        # RFC 8010 §3.1.1: version-number (2 bytes), then operation-id (2 bytes)
        op = struct.unpack(">H", body[2:4])[0] if len(body) >= 4 else -1
        self.operations.append(op)
        if op == Operation.SEND_DOCUMENT and self.hold.is_set():
            self.held.set()
            assert self._stopping is not None
            await self._stopping.wait()     # never answered: the sender dies waiting
            return web.Response(status=503)
        assert self._session is not None
        async with self._session.post(self.target, data=body,
                                      headers={"Content-Type": "application/ipp"}) as answer:
            data = await answer.read()
            return web.Response(status=answer.status, body=data,
                                headers={"Content-Type": "application/ipp"})
