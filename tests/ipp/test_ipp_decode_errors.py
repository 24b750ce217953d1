"""Malformed and over-limit input: each error carries its byte offset and IPP status."""

from __future__ import annotations

import pytest
from ipp_wire import BEGIN, END, header, i32, member, tok

from ippproxy.ipp import DecodeError, Decoder, Limits, Status, decode

BAD = Status.CLIENT_ERROR_BAD_REQUEST
TOO_LONG = Status.CLIENT_ERROR_REQUEST_VALUE_TOO_LONG
TOO_LARGE = Status.CLIENT_ERROR_REQUEST_ENTITY_TOO_LARGE
H = header()  # 8 bytes, so the first group tag is at offset 8


def nest(depth: int) -> bytes:
    body = tok(0x34, "c")
    for _ in range(depth - 1):
        body += member("m") + BEGIN
    return body + END * depth


CASES: list[tuple[str, bytes, Limits, str, int, int]] = [
    ("tag-0x00", H + b"\x01\x00", Limits(), "invalid tag 0x00", 9, BAD),
    ("attribute-before-group", H + tok(0x21, "a", i32(1)) + b"\x03", Limits(),
     "attribute before the first group", 8, BAD),
    ("additional-value-first", H + b"\x01" + tok(0x21, "", i32(1)) + b"\x03", Limits(),
     "additional value with no preceding attribute", 9, BAD),
    ("additional-value-after-new-group",
     H + b"\x01" + tok(0x21, "a", i32(1)) + b"\x02" + tok(0x21, "", i32(1)) + b"\x03",
     Limits(), "additional value with no preceding attribute", 20, BAD),
    ("member-outside-collection", H + b"\x01" + tok(0x4A, "", "x") + b"\x03", Limits(),
     "memberAttrName outside a collection", 9, BAD),
    ("end-collection-without-begin", H + b"\x01" + tok(0x37, "") + b"\x03", Limits(),
     "endCollection without begCollection", 9, BAD),
    ("integer-not-4-bytes", H + b"\x01" + tok(0x21, "copies", b"\x00\x01") + b"\x03", Limits(),
     "integer value of 2 bytes, not 4", 9 + 11, BAD),
    ("enum-not-4-bytes", H + b"\x01" + tok(0x23, "e", b"") + b"\x03", Limits(),
     "enum value of 0 bytes, not 4", 9 + 6, BAD),
    ("boolean-2", H + b"\x01" + tok(0x22, "b", b"\x02") + b"\x03", Limits(),
     "boolean value is not one byte 0 or 1", 15, BAD),
    ("boolean-2-bytes", H + b"\x01" + tok(0x22, "b", b"\x00\x00") + b"\x03", Limits(),
     "boolean", 15, BAD),
    ("datetime-10-bytes", H + b"\x01" + tok(0x31, "d", bytes(10)) + b"\x03", Limits(),
     "dateTime value of 10 bytes, not 11", 15, BAD),
    ("resolution-8-bytes", H + b"\x01" + tok(0x32, "r", bytes(8)) + b"\x03", Limits(),
     "resolution value of 8 bytes", 15, BAD),
    ("range-9-bytes", H + b"\x01" + tok(0x33, "r", bytes(9)) + b"\x03", Limits(),
     "rangeOfInteger value of 9 bytes", 15, BAD),
    ("with-language-short", H + b"\x01" + tok(0x35, "t", b"\x00") + b"\x03", Limits(),
     "shorter than 4 bytes", 15, BAD),
    ("with-language-bad-length", H + b"\x01" + tok(0x35, "t", b"\x00\x09en\x00\x00") + b"\x03",
     Limits(), "language length runs past", 15, BAD),
    ("with-language-trailing", H + b"\x01" + tok(0x36, "t", b"\x00\x02en\x00\x01ab") + b"\x03",
     Limits(), "text length does not match", 15, BAD),
    ("with-language-bad-utf8", H + b"\x01" + tok(0x35, "t", b"\x00\x02en\x00\x01\xff")
     + b"\x03", Limits(), "invalid UTF-8", 15, BAD),
    ("extension-short", H + b"\x01" + tok(0x7F, "x", b"\x00\x00") + b"\x03", Limits(),
     "extension value shorter than 4 bytes", 15, BAD),
    ("extension-high-bit", H + b"\x01" + tok(0x7F, "x", b"\x80\x00\x00\x00") + b"\x03",
     Limits(), "extension tag above 0x7fffffff", 15, BAD),
    *[
        (f"utf8-{tag:02x}", H + b"\x01" + tok(tag, "n", b"a\xc3(") + b"\x03", Limits(),
         "invalid UTF-8", 15, BAD)
        for tag in (0x41, 0x42, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49)
    ],
    ("utf8-name", H + b"\x01" + tok(0x44, b"\xffname", "x") + b"\x03", Limits(),
     "invalid UTF-8 in attribute name", 12, BAD),
    ("utf8-member-name", H + b"\x01" + tok(0x34, "c") + tok(0x4A, "", b"\xff") + END + b"\x03",
     Limits(), "invalid UTF-8 in memberAttrName", 9 + 6 + 5, BAD),
    ("utf8-surrogate", H + b"\x01" + tok(0x41, "t", b"\xed\xa0\x80") + b"\x03", Limits(),
     "invalid UTF-8", 15, BAD),
    ("beg-collection-with-value", H + b"\x01" + tok(0x34, "c", b"x") + END + b"\x03", Limits(),
     "begCollection with a value", 9, BAD),
    ("end-collection-with-value", H + b"\x01" + tok(0x34, "c") + tok(0x37, "", b"x") + b"\x03",
     Limits(), "endCollection with a value", 15, BAD),
    ("named-attribute-in-collection", H + b"\x01" + tok(0x34, "c") + tok(0x21, "x", i32(1))
     + END + b"\x03", Limits(), "attribute 'x' inside a collection", 15, BAD),
    ("value-without-member", H + b"\x01" + tok(0x34, "c") + tok(0x21, "", i32(1)) + END
     + b"\x03", Limits(), "collection value without memberAttrName", 15, BAD),
    ("member-without-value", H + b"\x01" + tok(0x34, "c") + member("a") + END + b"\x03",
     Limits(), "collection member 'a' without a value", 15 + 6, BAD),
    ("member-without-value-then-member", H + b"\x01" + tok(0x34, "c") + member("a")
     + member("b") + tok(0x21, "", i32(1)) + END + b"\x03",
     Limits(), "collection member 'a' without a value", 15 + 6, BAD),
    ("empty-member-name", H + b"\x01" + tok(0x34, "c") + member("") + b"\x03", Limits(),
     "empty memberAttrName", 15, BAD),
    ("group-inside-collection", H + b"\x01" + tok(0x34, "c") + b"\x02", Limits(),
     "group tag 0x02 inside a collection", 15, BAD),
    ("end-of-attributes-inside-collection", H + b"\x01" + tok(0x34, "c") + b"\x03", Limits(),
     "end-of-attributes inside a collection", 15, BAD),
    ("depth-11", H + b"\x01" + nest(11) + b"\x03", Limits(),
     "collections nested deeper than 10", 9 + 6 + 9 * (6 + 5) + 6, BAD),
    ("depth-3-limit-2", H + b"\x01" + nest(3) + b"\x03", Limits(max_depth=2),
     "collections nested deeper than 2", 9 + 6 + (6 + 5) + 6, BAD),
    # RFC 8010 §3.1.4: lengths are SIGNED-SHORT, so the top bit set means negative: malformed.
    ("name-length-negative", H + b"\x01" + b"\x44\x80\x00", Limits(),
     "negative name length -32768", 10, BAD),
    ("name-0xffff", H + b"\x01" + b"\x44\xff\xff", Limits(),
     "negative name length -1", 10, BAD),
    ("value-length-negative", H + b"\x01" + b"\x44\x00\x01a\x80\x00", Limits(),
     "negative value length -32768", 13, BAD),
    ("name-too-long", H + b"\x01" + b"\x44\x7f\xff", Limits(max_name_length=32766),
     "name length 32767 exceeds the limit of 32766", 10, TOO_LONG),
    ("value-too-long", H + b"\x01" + b"\x44\x00\x01a\x7f\xff", Limits(max_value_length=32766),
     "value length 32767 exceeds the limit of 32766", 13, TOO_LONG),
    ("value-limit-10", H + b"\x01" + tok(0x41, "t", "x" * 11), Limits(max_value_length=10),
     "value length 11 exceeds the limit of 10", 13, TOO_LONG),
    ("name-limit-3", H + b"\x01" + tok(0x41, "long", "x"), Limits(max_name_length=3),
     "name length 4 exceeds the limit of 3", 10, TOO_LONG),
    ("section-too-large", H + b"\x01" + tok(0x41, "t", "x" * 100) + b"\x03",
     Limits(max_section=50), "attribute section larger than 50 bytes", 9, TOO_LARGE),
    ("section-too-large-at-group", H + b"\x01" * 40, Limits(max_section=20),
     "attribute section larger than 20 bytes", 20, TOO_LARGE),
    ("section-end-tag-over", H + b"\x01" + tok(0x21, "a", i32(1)) + b"\x03",
     Limits(max_section=19), "attribute section larger than 19 bytes", 19, TOO_LARGE),
    ("too-many-values", H + b"\x01" + tok(0x21, "a", i32(1)) + tok(0x21, "", i32(1))
     + tok(0x21, "", i32(1)) + b"\x03", Limits(max_values=2), "more than 2 values", 9 + 10 + 9,
     TOO_LARGE),
]


@pytest.mark.parametrize(("wire", "limits", "reason", "offset", "status"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_decode_error(wire: bytes, limits: Limits, reason: str, offset: int,
                      status: int) -> None:
    with pytest.raises(DecodeError) as info:
        decode(wire, limits)
    assert reason in info.value.reason
    assert info.value.offset == offset, info.value
    assert info.value.status == status
    assert str(info.value).endswith(f" at offset 0x{offset:x}")


@pytest.mark.parametrize(("wire", "limits", "reason", "offset", "status"),
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_decode_error_bytewise(wire: bytes, limits: Limits, reason: str, offset: int,
                               status: int) -> None:
    """The same error at the same offset when fed one byte at a time."""
    decoder = Decoder(limits)
    with pytest.raises(DecodeError) as info:
        for i in range(len(wire)):
            decoder.feed(wire[i:i + 1])
        decoder.close()
    assert (info.value.offset, info.value.status) == (offset, status)
    assert reason in info.value.reason


def test_limit_fails_before_the_data_arrives() -> None:
    decoder = Decoder(Limits(max_value_length=100))
    with pytest.raises(DecodeError) as info:
        decoder.feed(H + b"\x01\x41\x00\x01t\x10\x00")  # value-length 4096, no value yet
    assert info.value.status == TOO_LONG and info.value.offset == 13


def test_section_limit_fails_before_the_data_arrives() -> None:
    decoder = Decoder(Limits(max_section=1000))
    with pytest.raises(DecodeError) as info:
        decoder.feed(H + b"\x01\x41\x00\x01t\x7f\xff")
    assert info.value.status == TOO_LARGE and info.value.offset == 9


def test_default_section_limit_is_one_mebibyte() -> None:
    assert Limits().max_section == 1 << 20
    wire = H + b"\x04" + tok(0x30, "o", bytes(30000)) * 40 + b"\x03"
    with pytest.raises(DecodeError) as info:
        decode(wire)
    assert info.value.status == TOO_LARGE
    assert decode(H + b"\x04" + tok(0x30, "o", bytes(30000)) * 30 + b"\x03").groups


@pytest.mark.parametrize(("wire", "reason", "offset"), [
    (b"", "message truncated in the header (0 of 8 bytes)", 0),
    (H[:5], "message truncated in the header (5 of 8 bytes)", 5),
    (H, "message truncated: no end-of-attributes tag", 8),
    (H + b"\x01", "message truncated: no end-of-attributes tag", 9),
    (H + b"\x01\x44", "attribute truncated after its tag", 9),
    (H + b"\x01\x44\x00", "attribute truncated after its tag", 9),
    (H + b"\x01\x44\x00\x05ab", "name length 5 runs past the end of the data", 10),
    (H + b"\x01\x44\x00\x01k\x00", "name length 1 runs past the end of the data", 10),
    (H + b"\x01" + tok(0x44, "k", "value")[:-1], "value length 5 runs past the end of the data",
     13),
    (H + b"\x01" + tok(0x34, "c"), "message truncated inside a collection: no end-of-attributes",
     15),
])
def test_truncated(wire: bytes, reason: str, offset: int) -> None:
    decoder = Decoder()
    assert decoder.feed(wire) is None
    with pytest.raises(DecodeError) as info:
        decoder.close()
    assert info.value.reason.startswith(reason)
    assert info.value.offset == offset and info.value.status == BAD
    with pytest.raises(DecodeError):
        decode(wire)


def test_error_is_sticky_and_header_kept() -> None:
    decoder = Decoder()
    with pytest.raises(DecodeError):
        decoder.feed(header((1, 1), 2, 42) + b"\x01\x00")
    assert decoder.header == ((1, 1), 2, 42)
    with pytest.raises(DecodeError):
        decoder.feed(b"\x03")
    with pytest.raises(DecodeError):
        decoder.close()


def test_lenient_utf8_keeps_bytes() -> None:
    from ippproxy.ipp import encode

    wire = H + b"\x04" + tok(0x41, "printer-info", b"caf\xe9") + tok(
        0x35, "t", b"\x00\x02fr\x00\x01\xe9") + b"\x03"
    message = decode(wire, Limits(strict_utf8=False))
    assert message.groups[0].attributes[0].value == b"caf\xe9"
    assert message.groups[0].attributes[0].tag == 0x41
    assert encode(message) == wire
