"""One listening port for IPP, IPPS and HTTPS, as cupsd serves them all on 631.

Theory of operation. The listener accepts connections itself and looks at each one's first
byte before anything reads it (``recv`` with ``MSG_PEEK``, so nothing is consumed): a TLS
record starts with content type 22, ``handshake`` (RFC 8446 §5.1, RFC 5246 §6.2.1), and an
HTTP request with a method token (RFC 9112 §3), which never starts with that byte. The
socket is then handed to the aiohttp request handler factory with
``loop.connect_accepted_socket``, with the TLS context for a handshake and without it
otherwise, so both ways run through the same aiohttp app, with its streaming bodies,
keep-alive, ``Expect: 100-continue`` and flow control untouched (TLS is the event loop's own
``SSLProtocol`` under aiohttp's protocol).

A client that connects and sends nothing is closed after ``header_timeout``; a TLS handshake
that does not complete in that time (a half ClientHello, garbage after 0x16) is closed by the
event loop's handshake timeout. Neither holds anything but its own socket, so the listener
keeps serving. Bytes that are neither TLS nor HTTP go to aiohttp, which answers 400 and
closes. A first request ``OPTIONS *`` asking to upgrade to TLS (RFC 2817) is answered here
(upgrade.py) and the connection continues over TLS.

Caps (caps.py). Every accepted connection takes a slot until its socket closes (the
protocol's ``connection_lost`` gives it back): at most ``per_address`` from one address
(more are closed at once) and at most ``total`` in all. ``total`` stays below the descriptor
limit minus a reserve (``raise_fd_limit`` lifts the soft limit to the hard one at start), so
that the database, the spool and the printers always have descriptors. When all slots are
taken, the oldest of the connections that have not sent their first byte and of those still
inside their request head (deadlines.py) is closed for the new one: a flood of idle or slow
connections cannot lock out a client that talks, whose head comes in one piece; when there is
neither, the new one is closed.

Deadlines (deadlines.py). Once handed on, a request head must be complete within
``head_timeout`` and a request body may not fall silent for ``body_idle_timeout``.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import socket
import ssl
from collections.abc import Callable
from typing import Any

from ippproxy.server.caps import Caps, Slot
from ippproxy.server.deadlines import Deadlines, Heads, watching
from ippproxy.server.upgrade import MAX_HEAD, tls_upgrade_head, upgrade

log = logging.getLogger(__name__)

TLS_HANDSHAKE = 0x16           # TLSPlaintext.type = handshake(22), RFC 8446 §5.1
BACKLOG = 512
# After EMFILE/ENFILE the accept loop pauses this long instead of spinning.
ACCEPT_PAUSE = 0.1
# An OPTIONS head that arrives in pieces is peeked at this many times, this far apart.
UPGRADE_PEEKS = 20
UPGRADE_PEEK_PAUSE = 0.01
UPGRADE_REQUEST_LINE = b"OPTIONS * HTTP/1.1\r\n"

ProtocolFactory = Callable[[], asyncio.BaseProtocol]


def bind(host: str, port: int, *, reuse_port: bool = False,
         listen: bool = True) -> list[socket.socket]:
    """Listening, non-blocking TCP sockets on every address ``host`` resolves to (``""``:
    all interfaces, IPv4 and IPv6), as ``loop.create_server`` binds them.
    ``reuse_port``: with SO_REUSEPORT, for the workers' own sockets (``rebind``);
    ``listen=False``: bound only (the supervisor holds the port without taking
    connections)."""
    infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM,
                               flags=socket.AI_PASSIVE)
    sockets: list[socket.socket] = []
    try:
        for family, kind, proto, _name, address in dict.fromkeys(
                (i[0], i[1], i[2], i[3], i[4]) for i in infos):
            sockets.append(_socket(family, kind, proto, address, reuse_port, listen))
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def rebind(held: list[socket.socket]) -> list[socket.socket]:
    """This process's own listening sockets on the addresses of ``held`` (bound with
    ``reuse_port``). With SO_REUSEPORT every worker has its own accept queue and the kernel
    spreads new connections over them by a hash of the addresses: one shared queue would
    let the first worker to wake take a whole burst of connections (the greedy accept
    loop), leaving the others idle."""
    sockets: list[socket.socket] = []
    try:
        for sock in held:
            sockets.append(_socket(sock.family, socket.SOCK_STREAM, sock.proto,
                                   sock.getsockname(), True, True))
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def _socket(family: int, kind: int, proto: int, address: tuple[Any, ...],
            reuse_port: bool, listen: bool) -> socket.socket:
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind(address)
        if listen:
            sock.listen(BACKLOG)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


class Listener:
    """Accepts on ``sockets`` and hands each connection to ``factory``, over TLS or not."""

    def __init__(self, sockets: list[socket.socket], factory: ProtocolFactory,
                 tls: ssl.SSLContext, first_byte_timeout: float,
                 caps: Caps | None = None, deadlines: Deadlines | None = None) -> None:
        self._sockets = sockets
        self.heads = Heads()
        self._factory = (factory if deadlines is None
                         else watching(factory, deadlines, self.heads))
        self._tls = tls
        self._timeout = first_byte_timeout or None
        self._accepting: list[asyncio.Task[None]] = []
        # connections not yet handed on, oldest first, with when they were accepted (loop
        # time): the silent ones may be evicted
        self._routing: dict[asyncio.Task[None], float] = {}
        self.caps = caps or Caps()

    @property
    def addresses(self) -> list[tuple[str, int]]:
        return [(str(s.getsockname()[0]), int(s.getsockname()[1])) for s in self._sockets]

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._accepting = [loop.create_task(self._accept(s), name="listener")
                           for s in self._sockets]

    async def close(self) -> None:
        """Stop accepting; connections not yet handed on are closed (those that were
        are aiohttp's, which the runner's cleanup shuts down)."""
        tasks = [*self._accepting, *self._routing]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for s in self._sockets:
            s.close()

    async def _accept(self, sock: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                conn, _addr = await loop.sock_accept(sock)
            except OSError as e:
                if e.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                    log.warning("accept: %s; pausing", e)
                    await asyncio.sleep(ACCEPT_PAUSE)
                continue
            conn.setblocking(False)
            slot = self._admit(conn, _addr)
            if slot is None:
                continue
            # Nagle off from the start: the TLS handshake's flights are several writes, and
            # each would otherwise wait for the client's delayed ACK (aiohttp sets it only
            # once it has the connection).
            with contextlib.suppress(OSError):
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            task = loop.create_task(self._route(conn, slot))
            self._routing[task] = loop.time()
            task.add_done_callback(self._routed)

    def _routed(self, task: asyncio.Task[None]) -> None:
        self._routing.pop(task, None)

    def _admit(self, conn: socket.socket, address: object) -> Slot | None:
        """A slot for ``conn``, or None (then ``conn`` is closed): see caps.py."""
        host = str(address[0]) if isinstance(address, tuple) else "local"
        if not self.caps.address_has_room(host):
            self.caps.refused(host, "per-address")
            conn.close()
            return None
        if not self.caps.has_room():
            # the oldest of the silent ones and of the heads in progress
            silent = next(iter(self._routing.items()), None)
            head = self.heads.oldest()
            if silent is not None and (head is None or silent[1] <= head):
                self._routing.pop(silent[0])
                silent[0].cancel()  # its connection is closed and its slot given back
            elif head is not None:
                self.heads.evict_oldest()
            else:
                self.caps.refused(host, "total")
                conn.close()
                return None
            self.caps.evicted += 1
        return self.caps.take(host)

    async def _route(self, conn: socket.socket, slot: Slot) -> None:
        loop = asyncio.get_running_loop()
        factory = slot.tracking(self._factory)
        try:
            first = await self._first_byte(conn)
            if not first:
                _close(conn, slot)    # closed (or silent) before the first byte
                return
            if first == b"O":           # maybe an upgrade to TLS in place (upgrade.py)
                head = await _upgrade_head(conn)
                if head:
                    self._routing.pop(asyncio.current_task(), None)  # type: ignore[arg-type]
                    await upgrade(conn, head, self._tls, factory, self._timeout)
                    if not slot.handed:
                        slot.release()      # the upgrade ended before a protocol took it
                    return
            secure = first[0] == TLS_HANDSHAKE
            self._routing.pop(asyncio.current_task(), None)  # type: ignore[arg-type]
            await loop.connect_accepted_socket(
                factory, conn, ssl=self._tls if secure else None,
                ssl_handshake_timeout=self._timeout if secure else None)
        except (OSError, TimeoutError, ssl.SSLError) as e:
            log.debug("connection dropped before HTTP: %s", e)
            _close(conn, slot)
        except asyncio.CancelledError:
            _close(conn, slot)
            raise

    async def _first_byte(self, conn: socket.socket) -> bytes:
        """The first byte, left in the socket; ``b""`` at end of stream or on silence."""
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self._timeout):
                while True:
                    with contextlib.suppress(BlockingIOError, InterruptedError):
                        return conn.recv(1, socket.MSG_PEEK)
                    await _readable(loop, conn)
        except TimeoutError:
            return b""


def _close(conn: socket.socket, slot: Slot) -> None:
    conn.close()
    slot.release()


async def _upgrade_head(conn: socket.socket) -> int:
    """Peek at a connection that starts like ``OPTIONS``: the length of its TLS upgrade
    head (0: not one). A head that arrives in pieces is waited for briefly."""
    for _ in range(UPGRADE_PEEKS):
        try:
            peeked = conn.recv(MAX_HEAD, socket.MSG_PEEK)
        except (BlockingIOError, InterruptedError):
            peeked = b""
        prefix = UPGRADE_REQUEST_LINE[:len(peeked)]
        if not peeked.startswith(prefix) and not prefix.startswith(peeked):
            return 0
        if b"\r\n\r\n" in peeked or len(peeked) >= MAX_HEAD:
            return tls_upgrade_head(peeked)
        await asyncio.sleep(UPGRADE_PEEK_PAUSE)
    return 0


async def _readable(loop: asyncio.AbstractEventLoop, conn: socket.socket) -> None:
    ready: asyncio.Future[None] = loop.create_future()

    def wake() -> None:
        if not ready.done():
            ready.set_result(None)

    loop.add_reader(conn.fileno(), wake)
    try:
        await ready
    finally:
        loop.remove_reader(conn.fileno())
