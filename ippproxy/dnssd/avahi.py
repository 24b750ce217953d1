"""avahi-daemon's D-Bus API (org.freedesktop.Avahi, avahi-daemon/org.freedesktop.Avahi.*.xml),
as far as publishing services needs it: one entry group per queue.

Why avahi and not an mDNS responder in-process (the ``zeroconf`` package): on a Linux host
avahi-daemon already answers on UDP port 5353; a second responder on the same host splits
the answers between two processes and fights avahi over name conflicts. And ``zeroconf``
(0.154.0, tried in the test's network namespace and browsed with avahi-browse) registers a
sub-type by taking it as the service's type: a service registered as
``_print._sub._ipp._tcp`` is found there and not under ``_ipp._tcp``, and registering the
same instance again under the base type is refused (``ServiceNameAlreadyRegistered``), so a
queue could not be both. avahi publishes a service and its sub-types as one entry group,
renames on conflict, and keeps announcing while our connection lives. The system bus is
``DBUS_SYSTEM_BUS_ADDRESS`` when set (libdbus's rule), else the standard socket.

Theory of operation. :class:`Avahi` holds one bus connection and an entry-group path per
queue. :meth:`publish` (re)fills a queue's group: ``Reset``, ``AddService`` for each service
(interface and protocol ``-1``: every one avahi uses), ``AddServiceSubtype`` per sub-type,
``Commit``. A name taken already on the network or on this host (``Local name collision``)
gets avahi's alternative name ("Office #2", ``GetAlternativeServiceName``), a few times at
most. :meth:`withdraw` frees a group: its records are withdrawn (goodbye packets,
RFC 6762 §10.1). When avahi-daemon leaves or joins the bus (a restart, a late start), the
``owner_changed`` callback tells the caller, who publishes everything again: avahi's groups
went with the old daemon.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from dbus_fast import BusType, Message, MessageType
from dbus_fast.aio import MessageBus

from ippproxy.dnssd.records import Announcement

log = logging.getLogger(__name__)

AVAHI = "org.freedesktop.Avahi"
SERVER = "org.freedesktop.Avahi.Server"
GROUP = "org.freedesktop.Avahi.EntryGroup"
IF_UNSPEC, PROTO_UNSPEC = -1, -1          # avahi-common/address.h
COLLISION = "org.freedesktop.Avahi.CollisionError"
_RENAMES = 8
_OWNER_RULE = ("type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',"
               f"member='NameOwnerChanged',arg0='{AVAHI}'")


class AvahiError(Exception):
    """avahi-daemon refused a call or is not there; the message says which."""


class Avahi:
    def __init__(self, bus: MessageBus) -> None:
        self.bus = bus
        self.groups: dict[str, str] = {}           # queue -> entry group object path
        self.names: dict[str, str] = {}            # queue -> the instance name published

    @classmethod
    async def connect(cls, owner_changed: Callable[[], None] = lambda: None) -> Avahi:
        """A connection to the system bus; ``owner_changed`` is called whenever
        avahi-daemon leaves or joins the bus (NameOwnerChanged), whose groups go with it.
        avahi-daemon need not be there yet."""
        try:
            bus = await MessageBus(bus_type=BusType.SYSTEM).connect()
        except (OSError, ValueError, EOFError) as e:
            raise AvahiError(f"no D-Bus system bus: {e}") from e
        avahi = cls(bus)

        def handler(msg: Message) -> None:
            if msg.member == "NameOwnerChanged" and msg.body and msg.body[0] == AVAHI:
                owner_changed()

        bus.add_message_handler(handler)
        await avahi.call("/org/freedesktop/DBus", "org.freedesktop.DBus", "AddMatch", "s",
                         [_OWNER_RULE], destination="org.freedesktop.DBus")
        return avahi

    async def call(self, path: str, interface: str, member: str, signature: str = "",
                   body: list[Any] | None = None, destination: str = AVAHI) -> list[Any]:
        try:
            reply = await self.bus.call(Message(destination=destination, path=path,
                                                interface=interface, member=member,
                                                signature=signature, body=body or []))
        except (OSError, EOFError) as e:
            raise AvahiError(f"D-Bus connection lost: {e}") from e
        if reply is None or reply.message_type == MessageType.ERROR:
            name = reply.error_name if reply is not None else "no reply"
            detail = reply.body[0] if reply is not None and reply.body else ""
            raise AvahiError(f"{member}: {name} {detail}".strip())
        return list(reply.body)

    def alive(self) -> bool:
        return self.bus.connected

    async def host_fqdn(self) -> str:
        """avahi's host name with its domain ("printsrv.local")."""
        return str((await self.call("/", SERVER, "GetHostNameFqdn"))[0])

    async def publish(self, ann: Announcement) -> str:
        """Announce (or re-announce) one queue; returns the instance name used."""
        path = self.groups.get(ann.queue)
        if path is None:
            path = str((await self.call("/", SERVER, "EntryGroupNew"))[0])
            self.groups[ann.queue] = path
        name = ann.services[0].name if ann.services else ann.queue
        for _ in range(_RENAMES):
            await self.call(path, GROUP, "Reset")
            try:
                await self._fill(path, ann, name)
            except AvahiError as e:
                if "Collision" not in str(e):
                    raise
                name = await self.alternative(name)
                continue
            await self.call(path, GROUP, "Commit")
            self.names[ann.queue] = name
            return name
        raise AvahiError(f"no free service name for queue {ann.queue!r}")

    async def _fill(self, path: str, ann: Announcement, name: str) -> None:
        for s in ann.services:
            await self.call(path, GROUP, "AddService", "iiussssqaay",
                            [IF_UNSPEC, PROTO_UNSPEC, 0, name, s.type, "", "", s.port,
                             s.txt_strings()])
            for sub in s.subtypes:
                await self.call(path, GROUP, "AddServiceSubtype", "iiussss",
                                [IF_UNSPEC, PROTO_UNSPEC, 0, name, s.type, "", sub])

    async def alternative(self, name: str) -> str:
        """avahi's next name after ``name`` ("Office" -> "Office #2")."""
        return str((await self.call("/", SERVER, "GetAlternativeServiceName", "s",
                                    [name]))[0])

    async def state(self, queue: str) -> int | None:
        """The queue's entry group state (AvahiEntryGroupState); None: no group."""
        path = self.groups.get(queue)
        if path is None:
            return None
        return int((await self.call(path, GROUP, "GetState"))[0])

    async def withdraw(self, queue: str) -> None:
        path = self.groups.pop(queue, None)
        self.names.pop(queue, None)
        if path is not None:
            await self.call(path, GROUP, "Free")

    def forget(self) -> None:
        """avahi-daemon went away: its groups (ours among them) went with it."""
        self.groups.clear()
        self.names.clear()

    async def reset(self) -> None:
        """Free every group we know of (those of a daemon that went away are gone: avahi
        refuses another client's path), then forget them."""
        for path in list(self.groups.values()):
            try:
                await self.call(path, GROUP, "Free")
            except AvahiError:
                pass
        self.forget()

    def close(self) -> None:
        self.forget()
        self.bus.disconnect()
