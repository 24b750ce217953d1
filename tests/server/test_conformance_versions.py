"""Every IPP version the server accepts, sent over a real socket (RFC 8011 §4.1.8; PWG
5100.12 for 2.0, 2.1 and 2.2), and the ones it refuses. The versions are written out, so that
dropping one from the accepted set fails here; ``ipp-versions-supported`` must list only
accepted ones."""

from __future__ import annotations

from ippproxy.ipp import Operation as Op
from ippproxy.ipp import Tag, encode

from .client import a, status, value
from .conftest import Started

ACCEPTED = ((1, 0), (1, 1), (2, 0), (2, 1), (2, 2))
REFUSED = ((0, 9), (1, 2), (3, 0))


async def test_each_version_accepted_and_answered_in_kind(start_proxy: Started) -> None:
    ipp = await start_proxy()
    for version in ACCEPTED:
        msg = ipp.request(Op.GET_PRINTER_ATTRIBUTES,
                          a("requested-attributes", Tag.KEYWORD, "ipp-versions-supported"),
                          version=version)
        reply = await ipp.post(encode(msg))
        assert status(reply) == "successful-ok", version
        assert reply.version == version and reply.request_id == msg.request_id
        advertised = reply.get(Tag.PRINTER_ATTRIBUTES, "ipp-versions-supported")
        assert advertised is not None
        assert set(advertised.plain) <= {f"{x}.{y}" for x, y in ACCEPTED}
        assert {"1.1", "2.0"} <= set(advertised.plain)


async def test_other_versions_refused(start_proxy: Started) -> None:
    ipp = await start_proxy()
    for version in REFUSED:
        msg = ipp.request(Op.GET_PRINTER_ATTRIBUTES, version=version)
        reply = await ipp.post(encode(msg))
        assert status(reply) == "server-error-version-not-supported", version
        text = value(reply, Tag.OPERATION_ATTRIBUTES, "status-message")
        assert text == f"IPP version {version[0]}.{version[1]} is not supported"
