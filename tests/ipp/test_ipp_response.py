"""make_response(): charset and natural-language first, status-message, echoed id and version."""

from __future__ import annotations

from ippproxy.ipp import Attribute, Group, Status, Tag, decode, encode, make_response
from ippproxy.ipp.response import truncate
from ippproxy.ipp.validate import SUPPORTED_VERSIONS

A = Attribute.single


def test_echoes_and_orders() -> None:
    jobs = [Group(Tag.JOB_ATTRIBUTES, (A("job-id", Tag.INTEGER, i),)) for i in (1, 2)]
    extra = (A("x", Tag.KEYWORD, "y"),)
    msg = make_response((2, 0), 77, Status.SUCCESSFUL_OK, "ok", jobs, extra, "de-de")
    assert msg.version == (2, 0) and msg.request_id == 77 and msg.code == 0
    assert msg.operation is not None and msg.groups[0] is msg.operation
    assert msg.operation.names() == [
        "attributes-charset", "attributes-natural-language", "status-message", "x"
    ]
    assert msg.get(Tag.OPERATION_ATTRIBUTES, "attributes-charset") == A(
        "attributes-charset", Tag.CHARSET, "utf-8")
    assert msg.get(Tag.OPERATION_ATTRIBUTES, "attributes-natural-language") == A(
        "attributes-natural-language", Tag.NATURAL_LANGUAGE, "de-de")
    assert msg.get(Tag.OPERATION_ATTRIBUTES, "status-message") == A(
        "status-message", Tag.TEXT, "ok")
    assert msg.groups[1:] == tuple(jobs)
    assert decode(encode(msg)) == msg


def test_without_message() -> None:
    msg = make_response((1, 1), 5, Status.CLIENT_ERROR_BAD_REQUEST)
    assert msg.version == (1, 1) and msg.request_id == 5
    assert msg.code == Status.CLIENT_ERROR_BAD_REQUEST
    assert msg.operation is not None
    assert msg.operation.names() == ["attributes-charset", "attributes-natural-language"]
    assert msg.get(Tag.OPERATION_ATTRIBUTES, "attributes-natural-language") == A(
        "attributes-natural-language", Tag.NATURAL_LANGUAGE, "en")


def test_every_supported_version_echoed_and_others_answered_as_1_1() -> None:
    for version in SUPPORTED_VERSIONS:
        assert make_response(version, 1, Status.SUCCESSFUL_OK).version == version
    for version in ((9, 9), (0, 0), (1, 2), (3, 0)):
        msg = make_response(version, 3, Status.SERVER_ERROR_VERSION_NOT_SUPPORTED, "no")
        assert msg.version == (1, 1) and msg.request_id == 3


def test_status_message_truncated_to_255_octets() -> None:
    msg = make_response((2, 0), 1, Status.CLIENT_ERROR_BAD_REQUEST, "é" * 200)
    text = msg.get(Tag.OPERATION_ATTRIBUTES, "status-message")
    assert text is not None and isinstance(text.value, str)
    assert len(text.value.encode()) <= 255 and text.value == "é" * 127
    assert truncate("abc") == "abc"


def test_status_message_without_control_characters() -> None:
    # The message may echo a client's or a printer's text: C0, DEL and C1 are dropped before
    # the cut, so 255 octets of printable text remain.
    raw = "bad\x00 name\x1b[31m\x7f\x85\n" + "x" * 300
    msg = make_response((2, 0), 1, Status.CLIENT_ERROR_BAD_REQUEST, raw)
    text = msg.get(Tag.OPERATION_ATTRIBUTES, "status-message")
    assert text is not None and text.value == ("bad name[31m" + "x" * 300)[:255]
