"""The HTTP/1.1 framing the deadlines follow (server/framing.py): heads, Content-Length and
chunked bodies, in any pieces; what it cannot follow stops it."""

from __future__ import annotations

import pytest

from ippproxy.server.framing import Framing, Phase

GET = b"GET /admin HTTP/1.1\r\nHost: x\r\n\r\n"


def phases(*pieces: bytes) -> list[Phase]:
    f = Framing()
    out = []
    for piece in pieces:
        f.feed(piece)
        out.append(f.phase)
    return out


def test_a_head_byte_by_byte_then_no_body() -> None:
    f = Framing()
    for byte in GET[:-1]:
        f.feed(bytes([byte]))
        assert f.phase is Phase.HEAD
    f.feed(GET[-1:])
    assert f.phase is Phase.IDLE and f.heads == 1


def test_content_length_body_then_the_next_request() -> None:
    head = b"POST /ipp/print HTTP/1.1\r\nContent-Length: 10\r\n\r\n"
    assert phases(head + b"12345", b"6789", b"0", b"\r\n" + GET[:5], GET[5:]) == [
        Phase.BODY, Phase.BODY, Phase.IDLE, Phase.HEAD, Phase.IDLE]


def test_chunked_body_with_extensions_and_trailers() -> None:
    f = Framing()
    f.feed(b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5;x=y\r\nab")
    assert f.phase is Phase.BODY
    f.feed(b"cde\r\n1")
    f.feed(b"0\r\n" + b"z" * 16 + b"\r\n0\r\nTrailer: 1\r\n")
    assert f.phase is Phase.BODY
    f.feed(b"\r\n" + GET)
    assert f.phase is Phase.IDLE and f.heads == 2


def test_pipelined_requests_in_one_piece() -> None:
    f = Framing()
    f.feed(GET * 3 + b"POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\nab")
    assert f.phase is Phase.BODY and f.heads == 4


@pytest.mark.parametrize("head", [
    b"GET / HTTP/1.1\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n",
    b"CONNECT x:1 HTTP/1.1\r\n\r\n",
    b"POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
    b"POST / HTTP/1.1\r\nContent-Length: -3\r\n\r\n",
    b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
    b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\n",
    b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\n",
    b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1_0\r\n",
    b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n",
])
def test_what_it_cannot_follow_stops_it(head: bytes) -> None:
    f = Framing()
    f.feed(head)
    assert f.phase is Phase.OPAQUE
    f.feed(GET)
    assert f.phase is Phase.OPAQUE


def test_an_endless_head_stops_it() -> None:
    f = Framing()
    f.feed(b"GET / HTTP/1.1\r\n")
    for _ in range(80):
        f.feed(b"X-A: " + b"a" * 16000 + b"\r\n")
    assert f.phase is Phase.OPAQUE
