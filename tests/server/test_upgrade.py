"""upgrade.tls_upgrade_head: which first requests are an RFC 2817 upgrade to TLS."""

from __future__ import annotations

import pytest

from ippproxy.server.upgrade import tls_upgrade_head

CUPS = (b"OPTIONS * HTTP/1.1\r\nHost: localhost:631\r\nConnection: upgrade\r\n"
        b"Upgrade: TLS/1.2,TLS/1.1,TLS/1.0\r\nUser-Agent: CUPS/2.4\r\n\r\n")


def test_the_cups_upgrade_request_and_what_follows_it() -> None:
    assert tls_upgrade_head(CUPS) == len(CUPS)
    assert tls_upgrade_head(CUPS + b"\x16\x03\x01") == len(CUPS)


@pytest.mark.parametrize("head", [
    CUPS[:-2],                                                     # not complete yet
    CUPS.replace(b"OPTIONS *", b"OPTIONS /"),                      # not the server
    CUPS.replace(b"Connection: upgrade", b"Connection: keep-alive"),
    CUPS.replace(b"TLS/1.2,TLS/1.1,TLS/1.0", b"TLS/1.0"),         # only old TLS offered
    CUPS.replace(b"Upgrade: TLS/1.2,TLS/1.1,TLS/1.0", b"Upgrade: websocket"),
    CUPS.replace(b"User-Agent: CUPS/2.4", b"Content-Length: 5"),  # with a body
    CUPS.replace(b"User-Agent: CUPS/2.4", b"not a header"),
    b"GET / HTTP/1.1\r\n\r\n",
])
def test_anything_else_is_not_an_upgrade(head: bytes) -> None:
    assert tls_upgrade_head(head) == 0
