"""The composition root: the only module that imports every package and wires them together.

``build_app(config)`` returns the aiohttp application; its cleanup context opens, on
startup, the database (Alembic upgrade), the spool, the job store, runs crash recovery,
starts the built-in virtual printer when a queue uses ``destination = "builtin"``, and the
Forwarder; on cleanup it stops them in reverse order. ``serve(config)`` runs the app until
SIGTERM or SIGINT and then shuts down gracefully (in-flight requests finish first).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
from aiohttp import web

from ippproxy.config import BUILTIN_DESTINATION, Config, QueueConfig
from ippproxy.db import make_engine, upgrade
from ippproxy.forwarding.client import DestinationClient
from ippproxy.forwarding.errors import DestinationRejected, DestinationUnavailable
from ippproxy.ipp import Attribute
from ippproxy.jobs.spool import Spool
from ippproxy.jobs.store import JobStore
from ippproxy.server.context import ServerContext
from ippproxy.server.hooks import AllowAll, IntakeHook, JobNotifier, NoNotifier
from ippproxy.server.http import CTX, ServerState, add_routes
from ippproxy.server.pages import add_pages
from ippproxy.server.subscriptions import Subscriptions

log = logging.getLogger(__name__)

UNLIMITED = 1 << 62
# After a failed Get-Printer-Attributes of a destination, answer from what we know for
# this long before asking it again (a client's request must not wait on a dead printer).
NEGATIVE_TTL = 5.0
# Deadline for a destination's Get-Printer-Attributes made on behalf of a client.
PROBE_TIMEOUT = 3.0

CLIENTS: web.AppKey[dict[str, DestinationClient]] = web.AppKey("ippproxy.clients", dict)


class DestinationCapabilities:
    """``CapabilitySource`` backed by the forwarding clients' cached Get-Printer-Attributes."""

    def __init__(self, clients: dict[str, DestinationClient]) -> None:
        self._clients = clients
        self._last: dict[str, tuple[Attribute, ...]] = {}
        self._failed_at: dict[str, float] = {}

    async def printer_attributes(self, queue: QueueConfig) -> tuple[Attribute, ...] | None:
        client = self._clients.get(queue.name)
        if client is None:
            return None
        failed = self._failed_at.get(queue.name)
        if failed is not None and time.monotonic() - failed < NEGATIVE_TTL:
            return None
        try:
            async with asyncio.timeout(PROBE_TIMEOUT):
                group = await client.get_printer_attributes()
        except (DestinationUnavailable, DestinationRejected, TimeoutError) as e:
            log.info("destination of %s unavailable: %s", queue.name, e)
            self._failed_at[queue.name] = time.monotonic()
            return None
        self._failed_at.pop(queue.name, None)
        self._last[queue.name] = group.attributes
        return group.attributes

    def last_known(self, queue: str) -> tuple[Attribute, ...] | None:
        return self._last.get(queue)


def destination_uri(config: Config, queue: QueueConfig) -> str:
    if queue.destination == BUILTIN_DESTINATION:
        vp = config.virtual_printer
        return f"ipp://{vp.listen}:{vp.port}/ipp/print"
    return queue.destination


def _uses_builtin(config: Config) -> bool:
    return any(q.destination == BUILTIN_DESTINATION for q in config.queues)


async def _start_virtual_printer(config: Config) -> object:
    from testprinters.virtual import VirtualPrinter

    vp = config.virtual_printer
    spool = Path(config.storage.spool) / "virtual" if vp.keep_documents else None
    printer = VirtualPrinter(host=vp.listen, port=vp.port, control_port=None,
                             keep_documents=vp.keep_documents, spool_dir=spool,
                             color=vp.color, duplex=vp.duplex)
    await printer.start()
    log.info("built-in virtual printer at %s", printer.uri)
    return printer


def _lifecycle(config: Config, intake: IntakeHook):  # type: ignore[no-untyped-def]
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            engine = make_engine(config.storage.database)
            stack.callback(engine.dispose)
            await asyncio.to_thread(upgrade, engine)
            spool = Spool(config.storage.spool, config.server.max_document_bytes or UNLIMITED)
            await asyncio.to_thread(spool.remove_temporaries)
            store = JobStore(engine)
            stack.push_async_callback(store.close)
            recovered = await store.recover(spool)
            log.info("recovery: %d job(s) brought to a defined state", len(recovered))
            if _uses_builtin(config):
                printer = await _start_virtual_printer(config)
                stack.push_async_callback(printer.close)  # type: ignore[attr-defined]
            session = aiohttp.ClientSession()
            stack.push_async_callback(session.close)
            fwd = config.forwarding
            clients = {q.name: DestinationClient(
                destination_uri(config, q), session, attributes_ttl=fwd.attributes_ttl,
                connect_timeout=fwd.connect_timeout, force_print_job=q.force_print_job)
                for q in config.queues}
            notifier = await _start_forwarder(stack, config, store, spool, clients)
            app[CTX].ctx = ServerContext(
                config=config, store=store, spool=spool,
                capabilities=DestinationCapabilities(clients), intake=intake,
                notifier=notifier, subscriptions=Subscriptions())
            yield
            app[CTX].ctx = None
    return ctx


async def _start_forwarder(stack: contextlib.AsyncExitStack, config: Config, store: JobStore,
                           spool: Spool, clients: dict[str, DestinationClient]) -> JobNotifier:
    try:
        from ippproxy.forwarding.worker import Forwarder
    except ImportError:  # pragma: no cover - until the worker lands
        log.warning("forwarding worker not available: jobs stay pending")
        return NoNotifier()
    forwarder = Forwarder(store, spool, config)
    await forwarder.start()
    stack.push_async_callback(forwarder.stop)
    notifier: JobNotifier = forwarder
    return notifier


def build_app(config: Config, *, intake: IntakeHook | None = None) -> web.Application:
    """The IPP server as an aiohttp application (resources open when it starts)."""
    app = web.Application(client_max_size=config.server.max_attributes_bytes)
    app[CTX] = ServerState()
    add_routes(app)
    add_pages(app)
    app.cleanup_ctx.append(_lifecycle(config, intake or AllowAll()))
    return app


async def serve(config: Config, *, intake: IntakeHook | None = None) -> None:
    """Serve until SIGTERM/SIGINT, then stop gracefully."""
    app = build_app(config, intake=intake)
    runner = web.AppRunner(app, handle_signals=False, access_log=None,
                           keepalive_timeout=config.server.keepalive_timeout)
    await runner.setup()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        site = web.TCPSite(runner, config.server.listen, config.server.port,
                           reuse_address=True)
        await site.start()
        log.info("ippproxy listening on %s:%d", config.server.listen, config.server.port)
        await stop.wait()
        log.info("shutting down")
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        await runner.cleanup()
