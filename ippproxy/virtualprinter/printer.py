"""The built-in virtual printer: a small IPP Everywhere printer of our own.

Theory of operation
-------------------
An aiohttp server (POST ``/ipp/print`` and ``/``) decodes each request with the
ippproxy codec, dispatches it to ``handlers.HANDLERS`` and answers one IPP
message. Document bodies stream from the socket to a file (when the document
may be a PDF or documents are kept) or are drained; pages are counted in a
thread (pikepdf; 1 for other formats). Received jobs go to one worker task that
"prints" them in order: processing, then completed with
job-impressions-completed = pages x copies and job-media-sheets-completed
(sides honoured).

Faults, set with :meth:`VirtualPrinter.set_state` or ``POST /control`` on the
separate control port (``{"state": "jam"}``):

* ``offline``: the listening socket is closed and open connections are dropped,
  so clients get "connection refused"; ``online`` re-binds the same port.
* ``busy``: job-creating operations answer ``server-error-busy``.
* ``jam`` / ``empty``: printer-state stopped with ``media-jam-error`` /
  ``media-empty-error``; the job being printed goes processing-stopped and
  waits, queued jobs stay pending, until ``clear`` (alias ``online``/``idle``).
* ``not-accepting``: printer-is-accepting-jobs false,
  ``server-error-not-accepting-jobs``.
* ``{"lose_next_response": "Print-Job"}`` (or ``Send-Document``/``Create-Job``):
  the next such request is fully processed (the job exists and prints) but the
  connection is aborted instead of answering, as a printer whose reply was lost.

Given a ``spool_dir`` of its own, the printer keeps its next job-id there, so job-ids
continue after a restart, and never overwrites a document it kept (record.py).

``GET /control`` answers a JSON summary (state, jobs with their counts).
Run standalone: ``python -m ippproxy.virtualprinter --port 8632``.
"""

from __future__ import annotations

import asyncio
import socket
import tempfile
import time
import uuid as uuidlib
from collections.abc import Callable, Sequence
from pathlib import Path

from aiohttp import web

from ippproxy.ipp import (
    Attribute,
    DecodeError,
    Decoder,
    Group,
    JobState,
    Message,
    PrinterState,
    Status,
    Tag,
    encode,
)
from ippproxy.virtualprinter.attributes import FORMATS, capabilities, supplies
from ippproxy.virtualprinter.control import control_app
from ippproxy.virtualprinter.handlers import HANDLERS
from ippproxy.virtualprinter.job import Decompressor, VirtualJob, count_pages
from ippproxy.virtualprinter.model import BodyReader
from ippproxy.virtualprinter.record import (
    JobIds,
    NotStored,
    create_document,
    document_path,
)

STATES = ("online", "idle", "clear", "offline", "busy", "jam", "empty", "not-accepting")
_FAULT_REASON = {"jam": "media-jam-error", "empty": "media-empty-error"}


class _LoseResponse(Exception):
    pass


class VirtualPrinter:
    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, control_port: int | None = 0,
                 name: str = "Virtual Printer", keep_documents: bool = False,
                 spool_dir: Path | None = None, color: bool = True, duplex: bool = True,
                 formats: Sequence[str] = FORMATS, print_delay: float = 0.0,
                 create_job: bool = True, list_job_uuid: bool = True) -> None:
        self.host, self.port, self.control_port = host, port, control_port
        self.name, self.keep_documents, self.print_delay = name, keep_documents, print_delay
        self.formats = tuple(formats)
        self.sides = ("one-sided", "two-sided-long-edge", "two-sided-short-edge") if duplex \
            else ("one-sided",)
        self.list_job_uuid = list_job_uuid
        self.uuid = f"urn:uuid:{uuidlib.uuid4()}"
        self.jobs: dict[int, VirtualJob] = {}
        self.fault: str | None = None
        self.accepting = True
        self.online = False
        self._color, self._duplex, self._create_job = color, duplex, create_job
        self._lose: set[str] = set()
        self._ids = JobIds(Path(), durable=False)
        self._started = time.time()
        self._spool_arg = spool_dir
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self.spool_dir = Path()
        self._runner: web.AppRunner | None = None
        self._control: web.AppRunner | None = None
        self._server: asyncio.base_events.Server | None = None
        self._queue: asyncio.Queue[VirtualJob] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        self._cleared = asyncio.Event()
        self._cleared.set()
        self._changed = asyncio.Event()

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def uri(self) -> str:
        return f"ipp://{self.host}:{self.port}/ipp/print"

    @property
    def control_url(self) -> str:
        return f"http://{self.host}:{self.control_port}/control"

    async def start(self) -> VirtualPrinter:
        if self._spool_arg is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="ippproxy-virtual-")
            self.spool_dir = Path(self._tmp.name)
        else:
            self.spool_dir = self._spool_arg
            self.spool_dir.mkdir(parents=True, exist_ok=True)
        # job-ids continue after a restart in a directory of its own (record.py).
        self._ids = JobIds(self.spool_dir, durable=self._spool_arg is not None)
        app = web.Application()
        for path in ("/ipp/print", "/"):
            app.router.add_post(path, self._handle)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        await self.go_online()
        if self.control_port is not None:
            self._control = web.AppRunner(control_app(self), handle_signals=False,
                                          access_log=None)
            await self._control.setup()
            site = web.TCPSite(self._control, self.host, self.control_port)
            await site.start()
            self.control_port = _bound_port(site)
        self._worker = asyncio.create_task(self._work())
        return self

    async def close(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)
            self._worker = None
        await self.go_offline()
        for runner in (self._runner, self._control):
            if runner is not None:
                await runner.cleanup()
        self._runner = self._control = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    async def go_online(self) -> None:
        if self._server is not None or self._runner is None:
            return
        loop = asyncio.get_running_loop()
        factory = self._runner.server
        assert factory is not None
        self._server = await loop.create_server(factory, self.host, self.port,
                                                reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]
        self.online = True
        self._notify()

    async def go_offline(self) -> None:
        """Stop listening and drop open connections: clients see connection refused."""
        if self._server is None:
            return
        self._server.close()
        if self._runner is not None and self._runner.server is not None:
            for handler in list(self._runner.server.connections):
                handler.force_close()
        await self._server.wait_closed()
        self._server = None
        self.online = False
        self._notify()

    # -- control -----------------------------------------------------------------------------

    async def set_state(self, state: str) -> None:
        if state not in STATES:
            raise ValueError(f"unknown state {state!r}; one of {', '.join(STATES)}")
        if state in ("online", "idle", "clear"):
            self.fault, self.accepting = None, True
            self._cleared.set()
            await self.go_online()
        elif state == "offline":
            await self.go_offline()
        elif state == "not-accepting":
            self.accepting = False
        else:
            self.fault = state
            if state in _FAULT_REASON:
                self._cleared.clear()
        self._notify()

    def lose_next_response(self, operation: str = "Print-Job") -> None:
        self._lose.add(operation)

    def lose_response_if_armed(self, operation: str) -> None:
        if operation in self._lose:
            self._lose.discard(operation)
            raise _LoseResponse(operation)

    async def next_job_id(self) -> int:
        """The next job-id; a synced file write when kept (record.py), off the loop."""
        try:
            return await asyncio.to_thread(self._ids.next)
        except OSError as e:   # its storage full or read-only (it shares our spool)
            raise NotStored("The printer could not store its job-id counter "
                            f"({e.strerror or e}).") from None

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 30.0) -> None:
        """Wait until ``predicate()`` holds (re-checked on every state change)."""
        async with asyncio.timeout(timeout):
            while not predicate():
                await self._changed.wait()

    def printer_state(self) -> tuple[int, tuple[str, ...], str]:
        if self.fault in _FAULT_REASON:
            reason = _FAULT_REASON[self.fault]
            return PrinterState.STOPPED, (reason,), reason.replace("-", " ").capitalize() + "."
        busy = any(j.state == JobState.PROCESSING for j in self.jobs.values())
        return (PrinterState.PROCESSING if busy else PrinterState.IDLE), ("none",), \
            ("Printing." if busy else "Idle.")

    def printer_attributes(self) -> list[Attribute]:
        caps = capabilities(name=self.name, uuid=self.uuid, uris=(self.uri,), color=self._color,
                            duplex=self._duplex, formats=self.formats)
        if not self._create_job:
            caps = tuple(a if a.name != "operations-supported" else Attribute.multi(
                a.name, Tag.ENUM, [v for v in a.plain if v not in (5, 6)]) for a in caps)
        state, reasons, message = self.printer_state()
        queued = sum(1 for j in self.jobs.values() if not j.terminal)
        now = time.time()
        return [*caps,
                Attribute.single("printer-state", Tag.ENUM, int(state)),
                Attribute.multi("printer-state-reasons", Tag.KEYWORD, reasons),
                Attribute.single("printer-state-message", Tag.TEXT, message),
                Attribute.single("printer-is-accepting-jobs", Tag.BOOLEAN, self.accepting),
                Attribute.single("queued-job-count", Tag.INTEGER, queued),
                *supplies(80),
                Attribute.single("printer-up-time", Tag.INTEGER, int(now - self._started) + 1),
                Attribute.single("printer-state-change-time", Tag.INTEGER, 1),
                Attribute.single("printer-config-change-time", Tag.INTEGER, 1)]

    # -- jobs --------------------------------------------------------------------------------

    def cancel(self, job: VirtualJob) -> None:
        job.set_state(JobState.CANCELED, ("job-canceled-by-user",), "Job canceled.")
        self._notify()

    async def receive_document(self, job: VirtualJob, body: BodyReader, compression: str) -> None:
        """Stream the document to a file (or drain it), count pages, queue the job."""
        inflate = Decompressor(compression)
        path = document_path(self.spool_dir, job.job_id, job.documents + 1)
        to_file = self.keep_documents or job.document_format in ("application/pdf",
                                                                 "application/octet-stream")
        f = None
        size, pending = 0, bytearray()
        broken = ""   # why the job is aborted
        try:
            try:
                f = create_document(path) if to_file else None
            except OSError as e:   # its storage full or read-only (it shares our spool)
                raise NotStored("The printer could not store the document "
                                f"({e.strerror or e}).") from None
            async for chunk in body.chunks():
                data = inflate.feed(chunk)
                size += len(data)
                if f is not None:
                    pending += data
                    if len(pending) >= 1 << 20:
                        await asyncio.to_thread(f.write, bytes(pending))
                        pending.clear()
            tail = inflate.flush()
            size += len(tail)
            if f is not None:
                await asyncio.to_thread(f.write, bytes(pending) + tail)
        except ConnectionResetError:
            # The sender went away mid-document (its server stopping, a cut connection): the
            # job is aborted as a real printer does, and the partial file goes.
            broken = "The document broke off before its end."
            raise
        except OSError as e:      # a write: the storage filled up or went read-only
            broken = f"The printer could not store the document ({e.strerror or e})."
            raise NotStored(broken) from None
        except NotStored as e:
            broken = e.reason
            raise
        finally:
            if f is not None:
                f.close()
                if broken:
                    path.unlink(missing_ok=True)
            if broken:
                job.set_state(JobState.ABORTED, ("aborted-by-system",), broken)
                self._notify()
        job.documents += 1
        job.document_bytes += size
        if f is not None:
            job.pages += await asyncio.to_thread(count_pages, path, job.document_format)
            if self.keep_documents:
                job.kept.append(path)
            else:
                path.unlink(missing_ok=True)
        else:
            job.pages += 1
        job.set_state(JobState.PENDING, ("none",), "Job queued.")
        self._queue.put_nowait(job)
        self._notify()

    async def _work(self) -> None:
        while True:
            job = await self._queue.get()
            if job.terminal:
                continue
            job.set_state(JobState.PROCESSING, ("job-printing",), "Printing.")
            self._notify()
            while not self._cleared.is_set() and not job.terminal:
                job.set_state(JobState.PROCESSING_STOPPED, ("printer-stopped",),
                              "Printer stopped.")
                self._notify()
                await self._cleared.wait()
                if not job.terminal:
                    job.set_state(JobState.PROCESSING, ("job-printing",), "Printing.")
            if self.print_delay and not job.terminal:
                await asyncio.sleep(self.print_delay)
            if not job.terminal:
                job.finish()
            self._notify()

    # -- HTTP ---------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        decoder = Decoder()
        head = b""
        try:
            msg: Message | None = None
            async for chunk in request.content.iter_any():
                head = head or chunk[:8]
                if (msg := decoder.feed(chunk)) is not None:
                    break
            if msg is None:
                msg = decoder.close()
        except DecodeError as exc:
            rid = int.from_bytes(head[4:8], "big") if len(head) >= 8 else 0
            return _reply((1, 1), rid, exc.status, [_text("status-message", exc.reason)], [])
        version = msg.version if msg.version in ((1, 0), (1, 1), (2, 0)) else (1, 1)
        if msg.operation is None or msg.operation.get("attributes-charset") is None:
            return _reply(version, msg.request_id, Status.CLIENT_ERROR_BAD_REQUEST,
                          [_text("status-message", "Missing operation attributes.")], [])
        handler = HANDLERS.get(msg.code)
        if handler is None or (not self._create_job and msg.code in (5, 6)):
            return _reply(version, msg.request_id, Status.SERVER_ERROR_OPERATION_NOT_SUPPORTED,
                          [_text("status-message", "Operation not supported.")], [])
        try:
            status, op_attrs, groups = await handler(self, msg, BodyReader(decoder.rest, request))
        except _LoseResponse:
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError() from None
        except ConnectionResetError:
            # Nobody is left to answer (receive_document aborted the job): end quietly
            # instead of aiohttp's traceback for the handler.
            raise asyncio.CancelledError() from None
        except NotStored as e:
            # RFC 8011 §B.1.6.3 server-error-temporary-error: the sender may try again
            # once there is room (a job already made was aborted).
            return _reply(version, msg.request_id, Status.SERVER_ERROR_TEMPORARY_ERROR,
                          [_text("status-message", e.reason)], [])
        return _reply(version, msg.request_id, status, op_attrs, groups)


def _text(name: str, value: str) -> Attribute:
    return Attribute.single(name, Tag.TEXT, value)


def _reply(version: tuple[int, int], request_id: int, status: int, op_attrs: list[Attribute],
           groups: list[Group]) -> web.Response:
    op = Group(Tag.OPERATION_ATTRIBUTES, (
        Attribute.single("attributes-charset", Tag.CHARSET, "utf-8"),
        Attribute.single("attributes-natural-language", Tag.NATURAL_LANGUAGE, "en"),
        *op_attrs))
    body = encode(Message(version, int(status), request_id, (op, *groups)))
    return web.Response(body=body, content_type="application/ipp")


def _bound_port(site: web.TCPSite) -> int:
    server = site._server
    assert isinstance(server, asyncio.base_events.Server)
    sock: socket.socket = server.sockets[0]
    return int(sock.getsockname()[1])

