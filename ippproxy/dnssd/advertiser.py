"""Keeps avahi's announcements equal to the queues: every queue with ``dnssd = true`` while
``[dnssd] enabled``, with a TXT record made from its printer attributes now.

Theory of operation. :meth:`Advertiser.run` is one task: it syncs, then sleeps until the
catalog changes (:meth:`reconfigure`, from the composition root's watcher callback) or
``refresh`` seconds pass (a destination's attributes, and so the TXT record, can change
without a catalog change; an entry group can meet a name conflict on the network later).
A sync withdraws the queues no longer wanted, publishes the new and the changed ones and
the ones whose group is in collision; unchanged announcements are left alone (no
re-announcement traffic). When avahi-daemon is not there (or went away: its groups went
with it), one line is logged and the next sync connects again and publishes everything.
Closing the connection withdraws every group (avahi frees a client's groups when it
disconnects; each sends its goodbye packets, RFC 6762 §10.1).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections.abc import Awaitable, Callable, Sequence

from ippproxy.config import Config, QueueConfig
from ippproxy.dnssd.avahi import Avahi, AvahiError
from ippproxy.dnssd.records import Announcement, announcement, instance_name
from ippproxy.ipp import Attribute

log = logging.getLogger(__name__)

# The queue's printer attributes, with URIs written for this authority ("host:port").
AttributesOf = Callable[[QueueConfig, str], Awaitable[Sequence[Attribute]]]
ENTRY_GROUP_COLLISION = 3                 # AvahiEntryGroupState (avahi-common/defs.h)


class Advertiser:
    def __init__(self, config: Config, attributes: AttributesOf, *,
                 connect: Callable[[Callable[[], None]], Awaitable[Avahi]] = Avahi.connect,
                 refresh: float = 30.0) -> None:
        self.config, self.attributes, self.connect = config, attributes, connect
        self.refresh = refresh
        self.avahi: Avahi | None = None
        self.published: dict[str, Announcement] = {}
        self.renamed: dict[str, str] = {}          # queue -> avahi's name after a conflict
        self._wake = asyncio.Event()
        self._stale = False                        # avahi-daemon left or joined the bus
        self._down_logged = False
        self._loopback_logged = False

    def reconfigure(self, config: Config) -> None:
        self.config = config
        self._wake.set()

    async def run(self) -> None:
        try:
            while True:
                await self.sync()
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), self.refresh)
                except TimeoutError:
                    pass
        finally:
            self.close()

    def close(self) -> None:
        if self.avahi is not None:
            self.avahi.close()
            self.avahi = None
        self.published.clear()
        self.renamed.clear()

    def wanted(self) -> list[QueueConfig]:
        return [q for q in self.config.queues if q.dnssd] if self.config.dnssd.enabled else []

    async def sync(self) -> None:
        """One pass; never raises for avahi's sake (it logs)."""
        wanted = self.wanted()
        if not wanted and self.avahi is None:
            return
        try:
            avahi = await self._connected()
            keep = {q.name for q in wanted}
            for name in [n for n in self.published if n not in keep]:
                await avahi.withdraw(name)
                del self.published[name]
            await self._publish(avahi, wanted)
        except AvahiError as e:
            if not self._down_logged:
                log.warning("dnssd: queues not announced: avahi-daemon: %s", e)
                self._down_logged = True
            self._stale = True      # start afresh next time (avahi's signal wakes us)
            return
        if self._down_logged:
            log.info("dnssd: avahi-daemon reached; %d queue(s) announced", len(self.published))
            self._down_logged = False

    async def _connected(self) -> Avahi:
        if self.avahi is not None and not self.avahi.alive():
            self.close()
        if self.avahi is None:
            self.avahi = await self.connect(self._owner_changed)
            self._warn_loopback()
        if self._stale:
            await self.avahi.reset()
            self.published.clear()
            self.renamed.clear()
            self._stale = False
        return self.avahi

    def _owner_changed(self) -> None:
        self._stale = True
        self._wake.set()

    async def _publish(self, avahi: Avahi, queues: list[QueueConfig]) -> None:
        srv = self.config.server
        host = srv.hostname or await avahi.host_fqdn()
        authority = f"{host}:{srv.port}"
        taken: set[str] = set()
        for q in queues:
            # Two queues described alike still get two instance names (RFC 6763 §4.1.1).
            name = instance_name(q)
            if name in taken:
                name = f"{name} ({q.name})"
            taken.add(name)
            name = self.renamed.get(q.name, name)
            if q.name in self.published and await self._collided(avahi, q.name):
                # Another host announced the name meanwhile (RFC 6762 §9): avahi's next one.
                name = self.renamed[q.name] = await avahi.alternative(name)
            attrs = await self.attributes(q, authority)
            ann = announcement(q, attrs, srv.port, name)
            if self.published.get(q.name) == ann:
                continue
            used = await avahi.publish(ann)
            if used != name:               # taken on this host: avahi's next name
                self.renamed[q.name] = used
                ann = announcement(q, attrs, srv.port, used)
            self.published[q.name] = ann
            log.info("dnssd: queue %s announced as %r (_ipp._tcp, _ipps._tcp)", q.name, used)

    async def _collided(self, avahi: Avahi, queue: str) -> bool:
        return await avahi.state(queue) == ENTRY_GROUP_COLLISION

    def _warn_loopback(self) -> None:
        try:
            loopback = ipaddress.ip_address(self.config.server.listen).is_loopback
        except ValueError:
            loopback = self.config.server.listen == "localhost"
        if loopback and not self._loopback_logged:
            log.warning("dnssd: server.listen is %s: the queues are announced, but clients "
                        "on the network cannot reach that address", self.config.server.listen)
            self._loopback_logged = True
