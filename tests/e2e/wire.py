"""Raw bytes on a raw socket: hand-built IPP (RFC 8010 §3) and a tiny HTTP/1.1 client.

The malformed requests of test_bad_input are built here byte by byte, so they do not depend
on the codec under test accepting to encode them. ``http_post`` sends the body from a thread
while the main thread reads, so a server that answers early (before reading the whole body)
does not deadlock the test.
"""

from __future__ import annotations

import socket
import ssl
import struct
import threading
from collections.abc import Iterable
from dataclasses import dataclass

# Value tags (RFC 8010 §3.5.2) and delimiter tags (§3.5.1) used by the hand-built requests.
OP_GROUP, JOB_GROUP, END, PRINTER_GROUP = 0x01, 0x02, 0x03, 0x04
INTEGER, BOOLEAN, ENUM = 0x21, 0x22, 0x23
BEGIN_COLLECTION, END_COLLECTION, MEMBER_NAME = 0x34, 0x37, 0x4A
TEXT, NAME, KEYWORD, URI, CHARSET, LANGUAGE, MIME = 0x41, 0x42, 0x44, 0x45, 0x47, 0x48, 0x49


def header(op: int, request_id: int = 1, version: tuple[int, int] = (2, 0)) -> bytes:
    """version-number, operation-id, request-id (RFC 8010 §3.1.1)."""
    return struct.pack(">BBHI", version[0], version[1], op, request_id)


def encode_value(value: bytes | str | int | bool, tag: int) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, bool) and tag == BOOLEAN:
        return b"\x01" if value else b"\x00"
    if isinstance(value, int):
        return struct.pack(">i", value)
    return value.encode("utf-8")


def attr(tag: int, name: str | bytes, value: bytes | str | int | bool) -> bytes:
    """One attribute-with-one-value (RFC 8010 §3.1.4); lengths from the actual bytes."""
    n = name.encode() if isinstance(name, str) else name
    v = encode_value(value, tag)
    return struct.pack(">BH", tag, len(n)) + n + struct.pack(">H", len(v)) + v


def extra_value(tag: int, value: bytes | str | int) -> bytes:
    """An additional value of the previous attribute (name-length 0, RFC 8010 §3.1.5)."""
    return attr(tag, b"", value)


def member(tag: int, name: str, value: bytes | str | int | bool) -> bytes:
    """A collection member: memberAttrName then its value (RFC 8010 §3.1.7)."""
    return attr(MEMBER_NAME, b"", name) + attr(tag, b"", value)


def begin_collection(name: str | bytes) -> bytes:
    return attr(BEGIN_COLLECTION, name, b"")


def end_collection() -> bytes:
    return attr(END_COLLECTION, b"", b"")


def charset_language() -> bytes:
    return attr(CHARSET, "attributes-charset", "utf-8") + attr(
        LANGUAGE, "attributes-natural-language", "en")


def operation_group(uri: str | None, user: str | None = "alice",
                    extra: Iterable[bytes] = ()) -> bytes:
    """Operation group: charset, natural-language, printer-uri, requesting-user-name, extra."""
    out = [bytes([OP_GROUP]), charset_language()]
    if uri is not None:
        out.append(attr(URI, "printer-uri", uri))
    if user is not None:
        out.append(attr(NAME, "requesting-user-name", user))
    out.extend(extra)
    return b"".join(out)


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


def _read_response(sock: socket.socket) -> HttpResponse:
    buf = b""
    while True:
        while b"\r\n\r\n" not in buf:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError(f"connection closed before a response; got {buf[:200]!r}")
            buf += chunk
        head, _, buf = buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        if status != 100:  # skip interim 100 Continue responses
            break
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            while b"\r\n" not in buf:
                buf += _recv(sock)
            size_line, _, buf = buf.partition(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            while len(buf) < size + 2:
                buf += _recv(sock)
            body += buf[:size]
            buf = buf[size + 2:]
            if size == 0:
                break
        return HttpResponse(status, headers, body)
    length = int(headers.get("content-length", "0"))
    while len(buf) < length:
        buf += _recv(sock)
    return HttpResponse(status, headers, buf[:length])


def _recv(sock: socket.socket) -> bytes:
    chunk = sock.recv(65536)
    if not chunk:
        raise ConnectionError("connection closed in the middle of a response")
    return chunk


def http_exchange(port: int, raw: bytes | Iterable[bytes], host: str = "127.0.0.1",
                  timeout: float = 20.0, tls: bool = False,
                  source: str | None = None) -> HttpResponse:
    """Send raw bytes (a whole HTTP request, or an iterable of pieces) and read one response;
    ``tls``: over TLS (the server's certificate is not checked), sent before reading;
    ``source``: from this local address (another loopback address: another computer)."""
    bind = (source, 0) if source else None
    if tls:
        ctx = ssl.create_default_context()
        ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
        with socket.create_connection((host, port), timeout=timeout,
                                      source_address=bind) as raw_sock:
            # Else Nagle holds the request back 40 ms, until the server acknowledges
            # the handshake's last write (tests/web/test_route_walk.py raw_get).
            raw_sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with ctx.wrap_socket(raw_sock, server_hostname=host) as tls_sock:
                for piece in [raw] if isinstance(raw, bytes) else raw:
                    tls_sock.sendall(piece)
                return _read_response(tls_sock)
    with socket.create_connection((host, port), timeout=timeout,
                                  source_address=bind) as sock:
        pieces = [raw] if isinstance(raw, bytes) else raw

        def send() -> None:
            try:
                for piece in pieces:
                    sock.sendall(piece)
            except OSError:
                pass  # the server answered early and closed: fine, the answer is read below

        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        try:
            return _read_response(sock)
        finally:
            sock.shutdown(socket.SHUT_RDWR)
            sender.join(timeout)


def post_request(body: bytes, path: str = "/ipp/print", port: int = 0,
                 content_type: str = "application/ipp", chunked: bool = False,
                 extra_headers: str = "") -> bytes:
    """An HTTP/1.1 POST carrying ``body`` (Content-Length or chunked framing)."""
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Type: {content_type}\r\n{extra_headers}")
    if chunked:
        framed = b""
        for i in range(0, len(body), 8192):
            part = body[i:i + 8192]
            framed += f"{len(part):x}\r\n".encode() + part + b"\r\n"
        return (head + "Transfer-Encoding: chunked\r\n\r\n").encode() + framed + b"0\r\n\r\n"
    return (head + f"Content-Length: {len(body)}\r\n\r\n").encode() + body


def http_post(port: int, body: bytes, path: str = "/ipp/print", **kw: object) -> HttpResponse:
    return http_exchange(port, post_request(body, path, port, **kw))  # type: ignore[arg-type]
