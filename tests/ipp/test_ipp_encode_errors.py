"""The encoder refuses what it cannot put on the wire correctly (EncodeError, a ValueError)."""

from __future__ import annotations

import datetime as dt

import pytest

from ippproxy.ipp import (
    Attribute,
    Collection,
    EncodeError,
    Group,
    Message,
    RangeOfInteger,
    Resolution,
    StringWithLanguage,
    Tag,
    decode,
    encode,
)
from ippproxy.ipp.attribute import Value
from ippproxy.ipp.encoder import encode_attribute

A = Attribute.single


def message(*attributes: Attribute, group: int = Tag.JOB_ATTRIBUTES) -> Message:
    return Message((2, 0), 0, 1, (Group(group, attributes),))


BAD: list[tuple[str, Message]] = [
    ("str-as-integer", message(A("copies", Tag.INTEGER, "2"))),
    ("bool-as-integer", message(A("copies", Tag.INTEGER, True))),
    ("int-as-boolean", message(A("b", Tag.BOOLEAN, 1))),
    ("int-as-keyword", message(A("sides", Tag.KEYWORD, 1))),
    ("int-too-big", message(A("copies", Tag.INTEGER, 2**31))),
    ("bytes-as-integer", message(A("copies", Tag.INTEGER, b"\x00\x00\x00\x01"))),
    ("none-as-text", message(A("t", Tag.TEXT, None))),
    ("str-as-octet-string", message(A("o", Tag.OCTET_STRING, "x"))),
    ("range-as-resolution", message(A("r", Tag.RESOLUTION, RangeOfInteger(1, 2)))),
    ("units-overflow", message(A("r", Tag.RESOLUTION, Resolution(1, 1, 300)))),
    ("collection-wrong-tag", message(A("c", Tag.KEYWORD, Collection(())))),
    ("end-collection-tag", message(A("c", Tag.END_COLLECTION, b""))),
    ("member-tag", message(A("c", Tag.MEMBER_ATTR_NAME, "x"))),
    ("empty-name", message(A("", Tag.KEYWORD, "x"))),
    ("no-values", message(Attribute("x", ()))),
    ("empty-member-name", message(A("c", Tag.BEGIN_COLLECTION, Collection((A("", 0x44, "x"),))))),
    ("member-no-values", message(A("c", Tag.BEGIN_COLLECTION, Collection((Attribute("m", ()),))))),
    ("group-tag-3", message(group=3)),
    ("group-tag-16", message(group=16)),
    ("value-tag-low", message(A("x", 0x05, b""))),
    ("value-too-long", message(A("o", Tag.OCTET_STRING, bytes(70000)))),
    ("language-too-long", message(A("t", Tag.TEXT_WITH_LANGUAGE,
                                    StringWithLanguage("en", "x" * 70000)))),
    ("bad-version", Message((256, 0), 0, 1, ())),
    ("bad-request-id", Message((2, 0), 0, 2**31, ())),
]


@pytest.mark.parametrize("msg", [m for _, m in BAD], ids=[n for n, _ in BAD])
def test_encode_refuses(msg: Message) -> None:
    with pytest.raises(EncodeError):
        encode(msg)


def test_naive_datetime_is_utc() -> None:
    msg = message(A("d", Tag.DATE_TIME, dt.datetime(2024, 1, 1, 12, 0, 0, 123456)))
    value = decode(encode(msg)).groups[0].attributes[0].value
    assert value == dt.datetime(2024, 1, 1, 12, 0, 0, 100000, tzinfo=dt.UTC)


def test_encode_attribute_tokens() -> None:
    values: list[Value] = ["a", "b"]
    assert encode_attribute(Attribute.multi("k", Tag.KEYWORD, values)) == (
        b"\x44\x00\x01k\x00\x01a" b"\x44\x00\x00\x00\x01b"
    )
