"""What the server tells clients of a destination printer: its capabilities and status.

Theory of operation
-------------------
Get-Printer-Attributes of a queue answers with the destination's own attributes
(:class:`DestinationCapabilities`, the server's ``CapabilitySource``). They come from the
forwarder's client of that destination (its cached Get-Printer-Attributes, refreshed
after ``attributes_ttl``), plus ``media-col-database`` (asked for by name, cached as
long) and the fast-changing state, markers and supplies (``STATUS_ATTRIBUTES``, re-read
after ``STATUS_TTL``, in the background once known). A request never waits longer than
``FIRST_GRACE`` on a destination that has never answered (then the server answers from its
static capabilities, ``server.destination_caps.FALLBACK``, while the destination is asked
on in the background; only the first requests for a queue wait that long, later ones not
at all), and once it has answered, only ``STALE_GRACE``: a printer slow to answer again
(one byte a second) is asked on in the background while the last good answer is served;
after a failure the last known attributes are answered with ``offline-report`` for
``NEGATIVE_TTL``. A probe itself gives up after ``PROBE_TIMEOUT``.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Callable

import aiohttp

from ippproxy.config import BUILTIN_DESTINATION, ForwardingConfig, QueueConfig, VirtualPrinterConfig
from ippproxy.ipp import Attribute, Group, Message, Operation, Tag

from .client import DestinationClient
from .errors import DestinationRejected, DestinationUnavailable
from .transport import Exchange, http_url

log = logging.getLogger(__name__)

# After a failed Get-Printer-Attributes of a destination, answer from what we know for
# this long before asking it again (a client's request must not wait on a dead printer).
NEGATIVE_TTL = 5.0
# Deadline for a destination's Get-Printer-Attributes made on behalf of a client.
PROBE_TIMEOUT = 3.0
# How long the first requests for a queue whose destination never answered wait for it
# (seconds, from the first of them): a printer that answers at all does within this.
FIRST_GRACE = 0.5
# The destination's state, markers and supplies are re-read at most this often (seconds);
# faster with a faster forwarding poll (five poll intervals, at least half a second).
STATUS_TTL = 5.0
# A successful answer is reused without looking at any cache for this long (seconds).
MEMO = 0.1
# Once a destination has answered, a request waits at most this long (seconds) for a new
# answer (one from the client's cache comes at once); a slow printer is asked on in the
# background while the last good answer is served.
STALE_GRACE = 0.05
STATUS_ATTRIBUTES = (
    "printer-state", "printer-state-reasons", "printer-state-message",
    "printer-is-accepting-jobs", "marker-colors", "marker-high-levels", "marker-levels",
    "marker-low-levels", "marker-names", "marker-types", "printer-supply",
    "printer-supply-description", "printer-alert", "printer-alert-description",
)


def destination_uri(queue: QueueConfig, builtin: VirtualPrinterConfig) -> str:
    """The printer ``queue`` forwards to (``builtin``: the built-in virtual printer)."""
    if queue.destination == BUILTIN_DESTINATION:
        return f"ipp://{builtin.listen}:{builtin.port}/ipp/print"
    return queue.destination


# Forwarder.client: the (cached) client of a destination URI, with force-print-job.
ClientFactory = Callable[[str, bool], DestinationClient]


class DestinationCapabilities:
    """The server's ``CapabilitySource`` (server/context.py) backed by the forwarder's
    clients (their cached Get-Printer-Attributes of each destination).
    ``media-col-database`` is not part of ``all`` (RFC 8011 §4.2.5.1, PWG 5100.7): it is
    asked for separately and cached as long."""

    def __init__(self, forwarding: ForwardingConfig, builtin: VirtualPrinterConfig,
                 client: ClientFactory, session: aiohttp.ClientSession) -> None:
        self._forwarding = forwarding
        self._builtin = builtin
        self._client = client
        self._session = session
        self._failed_at: dict[str, float] = {}
        self._databases: dict[str, tuple[float, tuple[Attribute, ...]]] = {}
        self._statuses: dict[str, tuple[float, tuple[Attribute, ...]]] = {}
        self._refreshing: dict[str, asyncio.Task[None]] = {}
        self._probing: dict[str, asyncio.Task[tuple[Attribute, ...] | None]] = {}
        self._combined: dict[str, tuple[Group, tuple[Attribute, ...], tuple[Attribute, ...],
                                        tuple[Attribute, ...]]] = {}
        self._memo_until: dict[str, float] = {}
        self._first_wait_until: dict[str, float] = {}
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
        probe = self._probing.get(queue.name)
        if probe is None:
            probe = asyncio.create_task(self._probe(queue))
            self._probing[queue.name] = probe
            probe.add_done_callback(lambda _: self._probing.pop(queue.name, None))
        if last is None:            # nothing to answer from yet: wait FIRST_GRACE at most, once
            until = self._first_wait_until.setdefault(queue.name, now + FIRST_GRACE)
            done, _ = await asyncio.wait({probe}, timeout=max(0.0, until - now))
            return probe.result() if probe in done else None
        done, _ = await asyncio.wait({probe}, timeout=STALE_GRACE)
        if probe in done:
            return probe.result()
        return last[3]              # a slow printer: the last good answer, probe continues

    async def _probe(self, queue: QueueConfig) -> tuple[Attribute, ...] | None:
        """Ask the destination (or the client's cache) and combine; never raises."""
        client = self._client(destination_uri(queue, self._builtin), queue.force_print_job)
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
        ttl = min(STATUS_TTL, max(0.5, 5 * self._forwarding.poll_interval))
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

    def forget(self, queue: str) -> None:
        """Drop what is cached for ``queue``: its destination changed, or it was deleted
        (the next request asks the destination it has now)."""
        for cache in (self._failed_at, self._databases, self._statuses, self._combined,
                      self._memo_until, self._offline_made, self._first_wait_until):
            cache.pop(queue, None)

    async def close(self) -> None:
        tasks: list[asyncio.Task[object]] = [*self._refreshing.values(), *self._probing.values()]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _media_col_database(self, queue: QueueConfig) -> tuple[Attribute, ...]:
        cached = self._databases.get(queue.name)
        now = time.monotonic()
        if cached is not None and now - cached[0] < self._forwarding.attributes_ttl:
            return cached[1]
        reply = await self._send(queue, Operation.GET_PRINTER_ATTRIBUTES, Attribute.single(
            "requested-attributes", Tag.KEYWORD, "media-col-database"))
        group = reply.group(Tag.PRINTER_ATTRIBUTES)
        found = group.get("media-col-database") if group is not None else None
        attrs = (found,) if found is not None else ()
        self._databases[queue.name] = (now, attrs)
        return attrs

    async def _send(self, queue: QueueConfig, op: int, *attrs: Attribute) -> Message:
        uri = destination_uri(queue, self._builtin)
        op_attrs = (Attribute.single("attributes-charset", Tag.CHARSET, "utf-8"),
                    Attribute.single("attributes-natural-language", Tag.NATURAL_LANGUAGE, "en"),
                    Attribute.single("printer-uri", Tag.URI, uri),
                    Attribute.single("requesting-user-name", Tag.NAME, "ippproxy"), *attrs)
        request = Message((2, 0), op, next(self._ids),
                          (Group(Tag.OPERATION_ATTRIBUTES, op_attrs),))
        exchange = Exchange(http_url(uri), self._session,
                            connect_timeout=self._forwarding.connect_timeout,
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
