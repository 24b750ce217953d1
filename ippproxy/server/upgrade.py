"""Upgrading a plain connection to TLS in place (RFC 2817 §3), as CUPS clients ask for it.

A CUPS client told ``426 Upgrade Required`` (authn.py, for a queue that takes passwords), or
run with encryption required on an ``ipp://`` URI (``ipptool -E``), opens a new connection
and sends, as its first request, ``OPTIONS * HTTP/1.1`` with ``Connection: Upgrade`` and
``Upgrade: TLS/1.2,...``. The listener recognises that head while peeking (nothing consumed
unless it is one), and then: the head is read off the socket, ``101 Switching Protocols`` is
answered, the TLS handshake runs on the same connection, the final response to the OPTIONS
request is sent over TLS (RFC 2817 §3.3: "the server MUST continue with the response to the
original request"), and the connection is handed to aiohttp like any TLS one. Any other
first request goes to aiohttp untouched.
"""

from __future__ import annotations

import asyncio
import re
import socket
import ssl
from collections.abc import Callable

MAX_HEAD = 4096
_REQUEST_LINE = b"OPTIONS * HTTP/1.1\r\n"
_HEADER = re.compile(rb"^([A-Za-z0-9-]+):[ \t]*(.*?)[ \t]*$")
SWITCHING = (b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
             b"Upgrade: TLS/1.2, HTTP/1.1\r\n\r\n")
# The final response to the OPTIONS request, over TLS (RFC 9110 §9.3.7: server-wide).
OPTIONS_OK = (b"HTTP/1.1 200 OK\r\nAllow: GET, HEAD, POST, OPTIONS\r\n"
              b"Content-Length: 0\r\n\r\n")


def tls_upgrade_head(peeked: bytes) -> int:
    """The length of a complete ``OPTIONS *`` request head asking to upgrade to TLS at the
    start of ``peeked``; 0 when it is not one (or not complete)."""
    if not peeked.startswith(_REQUEST_LINE):
        return 0
    end = peeked.find(b"\r\n\r\n")
    if end < 0:
        return 0
    fields: dict[bytes, bytes] = {}
    for line in peeked[len(_REQUEST_LINE):end].split(b"\r\n"):
        m = _HEADER.match(line)
        if m is None:
            return 0
        fields[m.group(1).lower()] = m.group(2).lower()
    if b"content-length" in fields or b"transfer-encoding" in fields:
        return 0        # a body would have to be read first: not an upgrade we take
    connection = {t.strip() for t in fields.get(b"connection", b"").split(b",")}
    offered = {t.strip() for t in fields.get(b"upgrade", b"").split(b",")}
    if b"upgrade" not in connection or not offered & {b"tls/1.2", b"tls/1.3"}:
        return 0
    return end + 4


class _Holding(asyncio.Protocol):
    """Holds what arrives between the handshake and aiohttp taking the connection over."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.lost = False

    def data_received(self, data: bytes) -> None:
        self.data += data

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True


async def upgrade(conn: socket.socket, head: int, tls: ssl.SSLContext,
                  factory: Callable[[], asyncio.BaseProtocol],
                  handshake_timeout: float | None) -> None:
    """Answer the upgrade head (``head`` bytes, already in the socket) and hand the
    connection, now TLS, to ``factory``'s protocol."""
    loop = asyncio.get_running_loop()
    conn.recv(head)         # peeked whole: it is all in the socket buffer
    holding = _Holding()
    transport, _ = await loop.connect_accepted_socket(lambda: holding, conn)
    transport.write(SWITCHING)
    try:
        secure = await loop.start_tls(transport, holding, tls, server_side=True,
                                      ssl_handshake_timeout=handshake_timeout)
    except BaseException:
        transport.close()
        raise
    if secure is None or holding.lost:
        transport.close()
        return
    secure.write(OPTIONS_OK)
    protocol = factory()
    secure.set_protocol(protocol)
    protocol.connection_made(secure)
    if holding.data and isinstance(protocol, asyncio.Protocol):
        protocol.data_received(bytes(holding.data))
