"""Table-driven hex vectors: decode to the expected Message, encode back byte for byte."""

from __future__ import annotations

import datetime as dt

import pytest
from ipp_wire import BEGIN, END, header, i32, member, op_prologue, tok

from ippproxy.ipp import (
    Attribute,
    Collection,
    Group,
    Message,
    RangeOfInteger,
    Resolution,
    StringWithLanguage,
    Tag,
    decode,
    encode,
)

A = Attribute.single
CHARSET = A("attributes-charset", Tag.CHARSET, "utf-8")
LANG_EN = A("attributes-natural-language", Tag.NATURAL_LANGUAGE, "en")

# RFC 8010 §A.1: Print-Job request (version 1.1, request-id 1), with document data after it.
RFC8010_A1 = bytes.fromhex(
    "0101" "0002" "00000001"
    "01"
    "47" "0012" + b"attributes-charset".hex() + "0005" + b"utf-8".hex()
    + "48" "001b" + b"attributes-natural-language".hex() + "0005" + b"en-us".hex()
    + "45" "000b" + b"printer-uri".hex() + "002c"
    + b"ipp://printer.example.com/ipp/print/pinetree".hex()
    + "42" "0008" + b"job-name".hex() + "0006" + b"foobar".hex()
    + "22" "0016" + b"ipp-attribute-fidelity".hex() + "0001" "01"
    + "02"
    "21" "0006" + b"copies".hex() + "0004" "00000014"
    + "44" "0005" + b"sides".hex() + "0013" + b"two-sided-long-edge".hex()
    + "03"
)
RFC8010_A1_MESSAGE = Message((1, 1), 0x0002, 1, (
    Group(Tag.OPERATION_ATTRIBUTES, (
        CHARSET,
        A("attributes-natural-language", Tag.NATURAL_LANGUAGE, "en-us"),
        A("printer-uri", Tag.URI, "ipp://printer.example.com/ipp/print/pinetree"),
        A("job-name", Tag.NAME, "foobar"),
        A("ipp-attribute-fidelity", Tag.BOOLEAN, True),
    )),
    Group(Tag.JOB_ATTRIBUTES, (
        A("copies", Tag.INTEGER, 20),
        A("sides", Tag.KEYWORD, "two-sided-long-edge"),
    )),
))

# RFC 8010 §A.7-style Create-Job with a media-col collection (nested media-size).
MEDIA_COL = (
    header((2, 0), 0x0005, 7) + op_prologue()
    + b"\x02" + tok(0x34, "media-col")
    + member("media-size") + BEGIN
    + member("x-dimension") + tok(0x21, "", i32(21000))
    + member("y-dimension") + tok(0x21, "", i32(29700))
    + END
    + member("media-color") + tok(0x44, "", "blue")
    + member("media-type") + tok(0x44, "", "stationery")
    + END + b"\x03"
)
MEDIA_COL_MESSAGE = Message((2, 0), 0x0005, 7, (
    Group(Tag.OPERATION_ATTRIBUTES, (CHARSET, LANG_EN)),
    Group(Tag.JOB_ATTRIBUTES, (
        A("media-col", Tag.BEGIN_COLLECTION, Collection((
            A("media-size", Tag.BEGIN_COLLECTION, Collection((
                A("x-dimension", Tag.INTEGER, 21000),
                A("y-dimension", Tag.INTEGER, 29700),
            ))),
            A("media-color", Tag.KEYWORD, "blue"),
            A("media-type", Tag.KEYWORD, "stationery"),
        ))),
    )),
))

UTC_MINUS_0530 = dt.timezone(-dt.timedelta(hours=5, minutes=30))

VECTORS: list[tuple[str, bytes, Message]] = [
    ("rfc8010-a1-print-job", RFC8010_A1, RFC8010_A1_MESSAGE),
    ("media-col-collection", MEDIA_COL, MEDIA_COL_MESSAGE),
    (
        "no-groups",
        header() + b"\x03",
        Message((1, 1), 2, 1, ()),
    ),
    (
        "all-group-tags-repeated-and-empty",
        header((2, 0), 0x0000, 5) + bytes([1, 2, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 3]),
        Message((2, 0), 0, 5, tuple(
            Group(t) for t in (1, 2, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
        )),
    ),
    (
        "document-and-subscription-groups",
        header() + b"\x09" + tok(0x21, "document-number", i32(1))
        + b"\x06" + tok(0x44, "notify-events", "job-completed") + tok(0x44, "", "job-created")
        + b"\x03",
        Message((1, 1), 2, 1, (
            Group(Tag.DOCUMENT_ATTRIBUTES, (A("document-number", Tag.INTEGER, 1),)),
            Group(Tag.SUBSCRIPTION_ATTRIBUTES, (
                Attribute.multi("notify-events", Tag.KEYWORD, ["job-completed", "job-created"]),
            )),
        )),
    ),
    (
        "mixed-1setOf-integer-range-and-out-of-band",
        header() + b"\x04"
        + tok(0x21, "copies-supported", i32(1)) + tok(0x33, "", i32(1) + i32(999))
        + tok(0x13, "printer-info") + tok(0x12, "printer-location") + tok(0x10, "x-unsup")
        + tok(0x15, "not-settable") + tok(0x16, "delete") + tok(0x17, "admin-define")
        + b"\x03",
        Message((1, 1), 2, 1, (Group(Tag.PRINTER_ATTRIBUTES, (
            Attribute("copies-supported", (
                (Tag.INTEGER, 1), (Tag.RANGE_OF_INTEGER, RangeOfInteger(1, 999)),
            )),
            A("printer-info", Tag.NO_VALUE, None),
            A("printer-location", Tag.UNKNOWN, None),
            A("x-unsup", Tag.UNSUPPORTED, None),
            A("not-settable", Tag.NOT_SETTABLE, None),
            A("delete", Tag.DELETE_ATTRIBUTE, None),
            A("admin-define", Tag.ADMIN_DEFINE, None),
        )),)),
    ),
    (
        "scalar-syntaxes",
        header() + b"\x02"
        + tok(0x23, "job-state", i32(9))
        + tok(0x21, "neg", i32(-2))
        + tok(0x22, "b", b"\x00")
        + tok(0x30, "job-password", b"\x00\xff\x10")
        + tok(0x31, "date-time-at-creation", bytes([0x07, 0xE8, 12, 31, 23, 59, 58, 7]) + b"-\x05\x1e")
        + tok(0x32, "printer-resolution", i32(600) + i32(1200) + b"\x03")
        + tok(0x33, "page-ranges", i32(1) + i32(5)) + tok(0x33, "", i32(8) + i32(9))
        + tok(0x35, "job-message", b"\x00\x02fr\x00\x06t\xc3\xa2che")
        + tok(0x36, "job-name", b"\x00\x05en-us\x00\x00")
        + tok(0x41, "text", "h\u00e9") + tok(0x46, "s", "ipps") + tok(0x49, "m", "application/pdf")
        + b"\x03",
        Message((1, 1), 2, 1, (Group(Tag.JOB_ATTRIBUTES, (
            A("job-state", Tag.ENUM, 9),
            A("neg", Tag.INTEGER, -2),
            A("b", Tag.BOOLEAN, False),
            A("job-password", Tag.OCTET_STRING, b"\x00\xff\x10"),
            A("date-time-at-creation", Tag.DATE_TIME,
              dt.datetime(2024, 12, 31, 23, 59, 58, 700000, tzinfo=UTC_MINUS_0530)),
            A("printer-resolution", Tag.RESOLUTION, Resolution(600, 1200, 3)),
            Attribute.multi("page-ranges", Tag.RANGE_OF_INTEGER,
                            [RangeOfInteger(1, 5), RangeOfInteger(8, 9)]),
            A("job-message", Tag.TEXT_WITH_LANGUAGE, StringWithLanguage("fr", "tâche")),
            A("job-name", Tag.NAME_WITH_LANGUAGE, StringWithLanguage("en-us", "")),
            A("text", Tag.TEXT, "hé"),
            A("s", Tag.URI_SCHEME, "ipps"),
            A("m", Tag.MIME_MEDIA_TYPE, "application/pdf"),
        )),)),
    ),
    (
        "unknown-tags-keep-raw-bytes",
        header() + b"\x04"
        + tok(0x4B, "x-future-string", b"\xff\xfe") + tok(0x24, "x-future-int", b"\x01")
        + tok(0x80, "x-high", b"") + tok(0x40, "x-generic", b"abc")
        + tok(0x7F, "x-extension", i32(0x40000001) + b"vendor")
        + tok(0x13, "oob-with-bytes", b"\x01\x02")
        + tok(0x31, "bad-date", bytes(11))
        + tok(0x31, "minus-zero", bytes([0x07, 0xE8, 1, 1, 0, 0, 0, 0]) + b"-\x00\x00")
        + b"\x03",
        Message((1, 1), 2, 1, (Group(Tag.PRINTER_ATTRIBUTES, (
            A("x-future-string", 0x4B, b"\xff\xfe"),
            A("x-future-int", 0x24, b"\x01"),
            A("x-high", 0x80, b""),
            A("x-generic", 0x40, b"abc"),
            A("x-extension", Tag.EXTENSION, i32(0x40000001) + b"vendor"),
            A("oob-with-bytes", Tag.NO_VALUE, b"\x01\x02"),
            A("bad-date", Tag.DATE_TIME, bytes(11)),
            A("minus-zero", Tag.DATE_TIME, bytes([0x07, 0xE8, 1, 1, 0, 0, 0, 0]) + b"-\x00\x00"),
        )),)),
    ),
    (
        "1setOf-collection-with-multi-valued-member",
        header((2, 0), 0, 3) + b"\x04"
        + tok(0x34, "media-col-database")
        + member("media-source") + tok(0x44, "", "tray-1") + tok(0x42, "", "Tray 2")
        + END
        + tok(0x34, "") + END
        + tok(0x44, "after", "x")
        + b"\x03",
        Message((2, 0), 0, 3, (Group(Tag.PRINTER_ATTRIBUTES, (
            Attribute("media-col-database", (
                (Tag.BEGIN_COLLECTION, Collection((
                    Attribute("media-source", ((Tag.KEYWORD, "tray-1"), (Tag.NAME, "Tray 2"))),
                ))),
                (Tag.BEGIN_COLLECTION, Collection(())),
            )),
            A("after", Tag.KEYWORD, "x"),
        )),)),
    ),
    (
        "vendor-operation-and-status-stay-int",
        header((2, 0), 0xFFFF, 0x7FFFFFFF) + b"\x01" + tok(0x23, "operations-supported", i32(0x4100))
        + b"\x03",
        Message((2, 0), 0xFFFF, 0x7FFFFFFF, (Group(Tag.OPERATION_ATTRIBUTES, (
            A("operations-supported", Tag.ENUM, 0x4100),
        )),)),
    ),
]


@pytest.mark.parametrize(("wire", "expected"), [(w, m) for _, w, m in VECTORS],
                         ids=[n for n, _, _ in VECTORS])
def test_decode_vector(wire: bytes, expected: Message) -> None:
    assert decode(wire) == expected


@pytest.mark.parametrize(("wire", "expected"), [(w, m) for _, w, m in VECTORS],
                         ids=[n for n, _, _ in VECTORS])
def test_encode_vector(wire: bytes, expected: Message) -> None:
    assert encode(expected) == wire
    assert encode(decode(wire)) == wire


def test_rfc8010_a1_document_follows() -> None:
    from ippproxy.ipp import Decoder

    decoder = Decoder()
    message = decoder.feed(RFC8010_A1 + b"%!PS-Adobe-3.0\n")
    assert message == RFC8010_A1_MESSAGE
    assert decoder.rest == b"%!PS-Adobe-3.0\n"


def test_values_keep_their_tag_and_helpers() -> None:
    message = decode(MEDIA_COL)
    media_col = message.get(Tag.JOB_ATTRIBUTES, "media-col")
    assert media_col is not None and media_col.tag == Tag.BEGIN_COLLECTION
    assert isinstance(media_col.value, Collection)
    size = media_col.value.get("media-size")
    assert size is not None and isinstance(size.value, Collection)
    assert size.value.get("x-dimension") == A("x-dimension", Tag.INTEGER, 21000)
    assert media_col.value.get("nope") is None
    assert message.operation is not None
    assert message.operation.names() == ["attributes-charset", "attributes-natural-language"]
    assert message.groups_of(Tag.JOB_ATTRIBUTES) == [message.groups[1]]
    assert message.group(Tag.PRINTER_ATTRIBUTES) is None
    assert message.get(Tag.PRINTER_ATTRIBUTES, "x") is None
    ranges = decode(VECTORS[6][1]).get(Tag.JOB_ATTRIBUTES, "page-ranges")
    assert ranges is not None
    assert ranges.plain == [RangeOfInteger(1, 5), RangeOfInteger(8, 9)]
    assert ranges.tags == [Tag.RANGE_OF_INTEGER, Tag.RANGE_OF_INTEGER]


def test_datetime_is_tz_aware() -> None:
    date = decode(VECTORS[6][1]).get(Tag.JOB_ATTRIBUTES, "date-time-at-creation")
    assert date is not None and isinstance(date.value, dt.datetime)
    assert date.value.utcoffset() == -dt.timedelta(hours=5, minutes=30)


def test_extension_split() -> None:
    from ippproxy.ipp.values import split_extension

    assert split_extension(i32(0x40000001) + b"vendor") == (0x40000001, b"vendor")
