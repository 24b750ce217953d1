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
import datetime as dt
import itertools
import logging
import signal
import time
from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path
from typing import Any, cast

import aiohttp
from aiohttp import web
from sqlalchemy import Engine, text

from ippproxy.config import BUILTIN_DESTINATION, Config, QueueConfig
from ippproxy.db import make_engine, upgrade
from ippproxy.forwarding.errors import DestinationRejected, DestinationUnavailable
from ippproxy.forwarding.transport import Exchange, http_url
from ippproxy.forwarding.worker import Forwarder
from ippproxy.ipp import Attribute, Group, Message, Operation, Tag
from ippproxy.jobs.records import JobRecord
from ippproxy.jobs.spool import Spool
from ippproxy.jobs.store import JobStore
from ippproxy.pipeline import Intake, Pipeline, open_pipeline
from ippproxy.pipeline.settle import FanOut
from ippproxy.policies import Policy, PolicyChain
from ippproxy.server import housekeeping
from ippproxy.server.basic_auth import BasicAuthenticator
from ippproxy.server.context import QueueRuntime, ServerContext
from ippproxy.server.http import CTX, ServerState, add_routes
from ippproxy.server.pages import add_pages
from ippproxy.server.receiving import Receiving
from ippproxy.server.subscriptions import Subscriptions
from ippproxy.virtualprinter import VirtualPrinter

log = logging.getLogger(__name__)

UNLIMITED = 1 << 62
# After a failed Get-Printer-Attributes of a destination, answer from what we know for
# this long before asking it again (a client's request must not wait on a dead printer).
NEGATIVE_TTL = 5.0
# Deadline for a destination's Get-Printer-Attributes made on behalf of a client.
PROBE_TIMEOUT = 3.0
# The destination's state, markers and supplies are re-read at most this often (seconds);
# faster with a faster forwarding poll (five poll intervals, at least half a second).
STATUS_TTL = 5.0
# A successful answer is reused without looking at any cache for this long (seconds).
MEMO = 0.1
# With several nodes on one spool, a node's start-up removes temp and unreferenced spool
# files only when untouched this long (another node may be receiving or deciding on them).
SHARED_SPOOL_MIN_AGE = 3600.0
MIGRATION_LOCK = 0x69707078  # pg_advisory_lock key of schema upgrades ("ippx")
STATUS_ATTRIBUTES = (
    "printer-state", "printer-state-reasons", "printer-state-message",
    "printer-is-accepting-jobs", "marker-colors", "marker-high-levels", "marker-levels",
    "marker-low-levels", "marker-names", "marker-types", "printer-supply",
    "printer-supply-description", "printer-alert", "printer-alert-description",
)


def destination_uri(config: Config, queue: QueueConfig) -> str:
    if queue.destination == BUILTIN_DESTINATION:
        vp = config.virtual_printer
        return f"ipp://{vp.listen}:{vp.port}/ipp/print"
    return queue.destination


class DestinationCapabilities:
    """``CapabilitySource`` backed by the forwarder's clients (their cached
    Get-Printer-Attributes of each destination). ``media-col-database`` is not part of
    ``all`` (RFC 8011 §4.2.5.1, PWG 5100.7): it is asked for separately and cached as long."""

    def __init__(self, config: Config, forwarder: Forwarder,
                 session: aiohttp.ClientSession) -> None:
        self._config = config
        self._forwarder = forwarder
        self._session = session
        self._failed_at: dict[str, float] = {}
        self._databases: dict[str, tuple[float, tuple[Attribute, ...]]] = {}
        self._statuses: dict[str, tuple[float, tuple[Attribute, ...]]] = {}
        self._refreshing: dict[str, asyncio.Task[None]] = {}
        self._combined: dict[str, tuple[Group, tuple[Attribute, ...], tuple[Attribute, ...],
                                        tuple[Attribute, ...]]] = {}
        self._memo_until: dict[str, float] = {}
        self._offline_made: dict[str, tuple[tuple[Attribute, ...], tuple[Attribute, ...]]] = {}
        self._ids = itertools.count(1)

    async def printer_attributes(self, queue: QueueConfig) -> tuple[Attribute, ...] | None:
        now = time.monotonic()
        failed = self._failed_at.get(queue.name)
        if failed is not None and now - failed < NEGATIVE_TTL:
            return self._offline(queue)
        last = self._combined.get(queue.name)
        if last is not None and now < self._memo_until.get(queue.name, 0.0):
            return last[3]          # asked a moment ago: every job of a burst needs this
        client = self._forwarder.client(destination_uri(self._config, queue),
                                        queue.force_print_job)
        try:
            async with asyncio.timeout(PROBE_TIMEOUT):
                group = await client.get_printer_attributes()
                extra = await self._media_col_database(queue)
                status = await self._status(queue)
        except (DestinationUnavailable, DestinationRejected, TimeoutError) as e:
            log.info("destination of %s unavailable: %s", queue.name, e)
            self._failed_at[queue.name] = time.monotonic()
            return self._offline(queue)
        self._failed_at.pop(queue.name, None)
        self._memo_until[queue.name] = time.monotonic() + MEMO
        last = self._combined.get(queue.name)
        if last is not None and last[0] is group and last[1] is extra and last[2] is status:
            return last[3]          # the same tuple while nothing changed (cheap to reuse)
        fresh = {a.name for a in status}
        combined = (tuple(a for a in group.attributes if a.name not in fresh)
                    + extra + status)
        self._combined[queue.name] = (group, extra, status, combined)
        return combined

    def _offline(self, queue: QueueConfig) -> tuple[Attribute, ...] | None:
        """The last known capabilities of an unreachable destination, its state replaced by
        ``offline-report`` (RFC 8011 §5.4.12); None when it was never reached."""
        last = self._combined.get(queue.name)
        if last is None:
            return None
        made = self._offline_made.get(queue.name)
        if made is not None and made[0] is last[3]:
            return made[1]          # the same tuple while nothing changed (cheap to reuse)
        keep = tuple(a for a in last[3] if a.name not in (
            "printer-state", "printer-state-reasons", "printer-state-message"))
        offline = keep + (
            Attribute.single("printer-state-reasons", Tag.KEYWORD, "offline-report"),
            Attribute.single("printer-state-message", Tag.TEXT,
                             "the destination printer cannot be reached"))
        self._offline_made[queue.name] = (last[3], offline)
        return offline

    async def _status(self, queue: QueueConfig) -> tuple[Attribute, ...]:
        """State, markers and supplies change faster than capabilities: re-read them when
        older than the TTL (RFC 8011 §5.4.11-13, PWG 5100.13 marker-*). Only the first read
        makes a client wait; later ones run in the background (one at a time per queue)
        while the request is answered from the last reading."""
        cached = self._statuses.get(queue.name)
        if cached is None:
            return await self._read_status(queue)
        ttl = min(STATUS_TTL, max(0.5, 5 * self._config.forwarding.poll_interval))
        if time.monotonic() - cached[0] >= ttl and queue.name not in self._refreshing:
            self._refreshing[queue.name] = asyncio.create_task(self._refresh(queue))
        return cached[1]

    async def _refresh(self, queue: QueueConfig) -> None:
        try:
            async with asyncio.timeout(PROBE_TIMEOUT):
                await self._read_status(queue)
        except (DestinationUnavailable, DestinationRejected, TimeoutError) as e:
            log.info("destination of %s unavailable: %s", queue.name, e)
            self._failed_at[queue.name] = time.monotonic()
        finally:
            self._refreshing.pop(queue.name, None)

    async def _read_status(self, queue: QueueConfig) -> tuple[Attribute, ...]:
        reply = await self._send(queue, Operation.GET_PRINTER_ATTRIBUTES, Attribute.multi(
            "requested-attributes", Tag.KEYWORD, STATUS_ATTRIBUTES))
        group = reply.group(Tag.PRINTER_ATTRIBUTES)
        attrs = tuple(a for a in group.attributes if a.name in STATUS_ATTRIBUTES) \
            if group is not None else ()
        self._statuses[queue.name] = (time.monotonic(), attrs)
        return attrs

    async def close(self) -> None:
        tasks = list(self._refreshing.values())
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _media_col_database(self, queue: QueueConfig) -> tuple[Attribute, ...]:
        cached = self._databases.get(queue.name)
        now = time.monotonic()
        if cached is not None and now - cached[0] < self._config.forwarding.attributes_ttl:
            return cached[1]
        reply = await self._send(queue, Operation.GET_PRINTER_ATTRIBUTES, Attribute.single(
            "requested-attributes", Tag.KEYWORD, "media-col-database"))
        group = reply.group(Tag.PRINTER_ATTRIBUTES)
        found = group.get("media-col-database") if group is not None else None
        attrs = (found,) if found is not None else ()
        self._databases[queue.name] = (now, attrs)
        return attrs

    async def _send(self, queue: QueueConfig, op: int, *attrs: Attribute) -> Message:
        uri = destination_uri(self._config, queue)
        op_attrs = (Attribute.single("attributes-charset", Tag.CHARSET, "utf-8"),
                    Attribute.single("attributes-natural-language", Tag.NATURAL_LANGUAGE, "en"),
                    Attribute.single("printer-uri", Tag.URI, uri),
                    Attribute.single("requesting-user-name", Tag.NAME, "ippproxy"), *attrs)
        request = Message((2, 0), op, next(self._ids),
                          (Group(Tag.OPERATION_ATTRIBUTES, op_attrs),))
        exchange = Exchange(http_url(uri), self._session,
                            connect_timeout=self._config.forwarding.connect_timeout,
                            read_timeout=PROBE_TIMEOUT)
        return await exchange.send(request)

    async def identify(self, queue: QueueConfig, actions: tuple[str, ...],
                       message: str) -> bool:
        """Identify-Printer (PWG 5100.13 §4.1) sent on to the destination when it has it."""
        dest = await self.printer_attributes(queue)
        ops = next((a.plain for a in dest or () if a.name == "operations-supported"), [])
        if Operation.IDENTIFY_PRINTER not in ops:
            return False
        attrs = [Attribute.multi("identify-actions", Tag.KEYWORD, list(actions))]
        if message:
            attrs.append(Attribute.single("message", Tag.TEXT, message))
        try:
            async with asyncio.timeout(PROBE_TIMEOUT):
                reply = await self._send(queue, Operation.IDENTIFY_PRINTER, *attrs)
        except (DestinationUnavailable, DestinationRejected, TimeoutError) as e:
            log.info("Identify-Printer at the destination of %s failed: %s", queue.name, e)
            return False
        return reply.code < 0x0100


class PausableStore:
    """The job store as the Forwarder sees it: jobs of paused queues are not claimed
    (Pause-Printer, RFC 8011 §4.3.7: no further jobs are processed)."""

    def __init__(self, store: JobStore, queues: dict[str, QueueRuntime]) -> None:
        self._store = store
        self._queues = queues

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    async def claim_next_for_forwarding(self, now: dt.datetime | None = None, *,
                                        queues: Iterable[str] | None = None,
                                        lease: dt.timedelta = dt.timedelta(minutes=10)
                                        ) -> JobRecord | None:
        active = [n for n, q in self._queues.items() if not q.paused]
        if queues is not None:
            wanted = set(queues)
            active = [n for n in active if n in wanted]
        if not active:
            return None
        return await self._store.claim_next_for_forwarding(now, queues=active, lease=lease)

    async def next_attempt_time(self) -> dt.datetime | None:
        # With every queue paused nothing is due: no store read on each wake-up (every
        # Print-Job wakes the forwarder). Resume-Printer wakes it again.
        if all(q.paused for q in self._queues.values()):
            return None
        return await self._store.next_attempt_time()


def _upgrade(engine: Engine) -> None:
    """The Alembic upgrade; on PostgreSQL one node at a time (a session advisory lock),
    so that nodes started together on a fresh database do not both create the tables."""
    if engine.dialect.name != "postgresql":
        upgrade(engine)
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
        try:
            upgrade(engine)
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})


async def _start_virtual_printer(config: Config) -> VirtualPrinter:
    vp = config.virtual_printer
    spool = Path(config.storage.spool) / "virtual" if vp.keep_documents else None
    printer = VirtualPrinter(host=vp.listen, port=vp.port, control_port=None,
                             keep_documents=vp.keep_documents, spool_dir=spool,
                             color=vp.color, duplex=vp.duplex)
    await printer.start()
    log.info("built-in virtual printer at %s", printer.uri)
    return printer


def _lifecycle(config: Config, policies: tuple[Policy, ...]
               ) -> Callable[[web.Application], AsyncIterator[None]]:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            engine = make_engine(config.storage.database)
            stack.callback(engine.dispose)
            await asyncio.to_thread(_upgrade, engine)
            spool = Spool(config.storage.spool, config.server.max_document_bytes or UNLIMITED,
                          copy_max=config.storage.copy_max_bytes)
            # Several nodes share the database and the spool: each names itself, recovers
            # only its own claims, and leaves the spool files of the others alone.
            node = config.storage.node or None
            store = JobStore(engine, node=node)
            stack.push_async_callback(store.close)
            spool.copies = store  # small documents live in the store (spool.py)
            recovered = await store.recover(spool, min_age=SHARED_SPOOL_MIN_AGE if node else 0)
            log.info("recovery: %d job(s) brought to a defined state", len(recovered))
            if any(q.destination == BUILTIN_DESTINATION for q in config.queues):
                printer = await _start_virtual_printer(config)
                stack.push_async_callback(printer.close)
            queues = {q.name: QueueRuntime(q) for q in config.queues}
            # Counting, rules and charging (issues 4, 5): opened before the Forwarder so
            # that it stops after it.
            pipeline: Pipeline | None = None
            if config.accounting.enabled:
                pipeline = await stack.enter_async_context(
                    open_pipeline(config, engine, store, spool, policies))
            # Conversion for destinations that do not take a job's format shares the
            # pipeline's analysis pool; without one the Forwarder makes its own when needed.
            # Submissions in flight: the Forwarder spaces its sends while there are any.
            receiving = Receiving()
            forwarder = Forwarder(cast(JobStore, PausableStore(store, queues)), spool, config,
                                  on_finished=pipeline.settler.job_changed if pipeline else None,
                                  pool=pipeline.pool if pipeline else None,
                                  receiving=receiving)
            await forwarder.start()
            stack.push_async_callback(forwarder.stop)
            session = aiohttp.ClientSession()
            stack.push_async_callback(session.close)
            capabilities = DestinationCapabilities(config, forwarder, session)
            stack.push_async_callback(capabilities.close)
            app[CTX].ctx = ServerContext(
                config=config, store=store, spool=spool,
                capabilities=capabilities,
                intake=pipeline.intake if pipeline else Intake(store, spool,
                                                               PolicyChain(policies)),
                notifier=FanOut(forwarder, pipeline.settler) if pipeline else forwarder,
                authenticator=BasicAuthenticator(
                    (q.name for q in config.queues if q.authentication == "basic"),
                    pipeline.accounting) if pipeline else None,
                subscriptions=Subscriptions(), queues=queues, receiving=receiving)
            upkeep = asyncio.create_task(housekeeping.run_forever(app[CTX].get()),
                                         name="housekeeping")
            yield
            upkeep.cancel()
            await asyncio.gather(upkeep, return_exceptions=True)
            app[CTX].ctx = None
    return ctx


def build_app(config: Config, *, policies: Iterable[Policy] = ()) -> web.Application:
    """The IPP server as an aiohttp application (resources open when it starts).
    ``policies``: an embedding application's own rules, after the configured ones."""
    app = web.Application(client_max_size=config.server.max_attributes_bytes)
    app[CTX] = ServerState()
    add_routes(app)
    add_pages(app)
    app.cleanup_ctx.append(_lifecycle(config, tuple(policies)))
    return app


async def serve(config: Config, *, policies: Iterable[Policy] = ()) -> None:
    """Serve until SIGTERM/SIGINT, then stop gracefully."""
    app = build_app(config, policies=policies)
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
