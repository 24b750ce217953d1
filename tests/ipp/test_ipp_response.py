"""response(): charset and natural-language first, status-message, echoed id and version."""

from __future__ import annotations

from ippproxy.ipp import (
    Attribute,
    Group,
    Message,
    Operation,
    Status,
    Tag,
    decode,
    encode,
    response,
)
from ippproxy.ipp.response import truncate

A = Attribute.single
REQUEST = Message((2, 0), Operation.GET_JOBS, 77, (Group(Tag.OPERATION_ATTRIBUTES, (
    A("attributes-charset", Tag.CHARSET, "utf-8"),
    A("attributes-natural-language", Tag.NATURAL_LANGUAGE, "de-de"),
)),))


def test_echoes_and_orders() -> None:
    jobs = [Group(Tag.JOB_ATTRIBUTES, (A("job-id", Tag.INTEGER, i),)) for i in (1, 2)]
    extra = Group(Tag.OPERATION_ATTRIBUTES, (A("x", Tag.KEYWORD, "y"),
                                             A("attributes-charset", Tag.CHARSET, "utf-8")))
    msg = response(REQUEST, Status.SUCCESSFUL_OK, "ok", [extra, *jobs])
    assert msg.version == (2, 0) and msg.request_id == 77 and msg.code == 0
    assert msg.operation is not None
    assert msg.operation.names() == [
        "attributes-charset", "attributes-natural-language", "status-message", "x"
    ]
    assert msg.get(Tag.OPERATION_ATTRIBUTES, "attributes-natural-language") == A(
        "attributes-natural-language", Tag.NATURAL_LANGUAGE, "de-de")
    assert msg.groups[1:] == tuple(jobs)
    assert decode(encode(msg)) == msg


def test_without_message_or_request() -> None:
    msg = response(None, Status.CLIENT_ERROR_BAD_REQUEST, request_id=5)
    assert msg.version == (1, 1) and msg.request_id == 5
    assert msg.operation is not None
    assert msg.operation.names() == ["attributes-charset", "attributes-natural-language"]
    assert msg.get(Tag.OPERATION_ATTRIBUTES, "attributes-natural-language") == A(
        "attributes-natural-language", Tag.NATURAL_LANGUAGE, "en")


def test_unsupported_version_answered_as_1_1() -> None:
    bad = Message((9, 9), 2, 3, ())
    msg = response(bad, Status.SERVER_ERROR_VERSION_NOT_SUPPORTED, "no")
    assert msg.version == (1, 1) and msg.request_id == 3


def test_status_message_truncated_to_255_octets() -> None:
    msg = response(REQUEST, Status.CLIENT_ERROR_BAD_REQUEST, "é" * 200)
    text = msg.get(Tag.OPERATION_ATTRIBUTES, "status-message")
    assert text is not None and isinstance(text.value, str)
    assert len(text.value.encode()) <= 255 and text.value == "é" * 127
    assert truncate("abc") == "abc"
