"""IPP attribute values: the Python type of each syntax and its wire form (RFC 8010 §3.9).

Mapping (tag -> Python value):

* integer, enum -> ``int``; boolean -> ``bool``
* text, name, keyword, uri, uriScheme, charset, naturalLanguage, mimeMediaType,
  memberAttrName -> ``str`` (strict UTF-8)
* octetString, the extension tag 0x7F and every unregistered tag -> ``bytes`` (never decoded)
* dateTime -> tz-aware ``datetime.datetime`` (RFC 2579 DateAndTime, 11 octets); a dateTime that
  is not a valid date, or whose re-encoding would differ (``-0000``, second 60), stays ``bytes``
* resolution -> :class:`Resolution`; rangeOfInteger -> :class:`RangeOfInteger`
* textWithLanguage, nameWithLanguage -> :class:`StringWithLanguage`
* out-of-band tags (0x10-0x1F) -> ``None``

A collection (RFC 8010 §3.1.6) is made of attributes, so :class:`~.attribute.Collection` and the
full ``Value`` type live one level up, in attribute.py; this module is the level below it: the
scalar syntaxes (``Scalar``) and their wire form. A ``bytes`` value is written as is whatever
its tag, so unknown values round-trip byte-exactly.
"""

from __future__ import annotations

import datetime as dt
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeAlias

from .tags import Tag

# Resolution units (RFC 8011 §5.1.16).
DPI = 3
DPCM = 4


@dataclass(frozen=True, slots=True)
class Resolution:
    """resolution: cross-feed, feed, units (3 = dots per inch, 4 = dots per cm)."""

    x: int
    y: int
    units: int = DPI


@dataclass(frozen=True, slots=True)
class RangeOfInteger:
    """rangeOfInteger: lower and upper bound, both inclusive."""

    lower: int
    upper: int


@dataclass(frozen=True, slots=True)
class StringWithLanguage:
    """textWithLanguage / nameWithLanguage (RFC 8010 §3.9)."""

    language: str
    text: str


# Every value but a collection.
Scalar: TypeAlias = (
    int | bool | str | bytes | dt.datetime | Resolution | RangeOfInteger | StringWithLanguage
    | None
)


class ValueSyntaxError(ValueError):
    """Internal: a value that does not fit its tag; the decoder adds the offset."""


_INT = struct.Struct(">i")
_RES = struct.Struct(">iib")
_RANGE = struct.Struct(">ii")
_DATE = struct.Struct(">HBBBBBBcBB")

# Tags whose value must be strict UTF-8 (RFC 8011 §5.1: text, name, keyword, ... are UTF-8 or
# US-ASCII subsets).
STRING_TAGS = frozenset({
    Tag.TEXT, Tag.NAME, Tag.KEYWORD, Tag.URI, Tag.URI_SCHEME, Tag.CHARSET,
    Tag.NATURAL_LANGUAGE, Tag.MIME_MEDIA_TYPE, Tag.MEMBER_ATTR_NAME,
})
WITH_LANGUAGE_TAGS = frozenset({Tag.TEXT_WITH_LANGUAGE, Tag.NAME_WITH_LANGUAGE})


def decode_datetime(data: bytes) -> dt.datetime | bytes:
    """RFC 2579 DateAndTime (11 octets) -> aware datetime, or the raw bytes when not canonical."""
    year, month, day, hour, minute, second, decis, sign, tzh, tzm = _DATE.unpack(data)
    try:
        if sign not in (b"+", b"-") or decis > 9 or tzm > 59:
            return data
        offset = dt.timedelta(hours=tzh, minutes=tzm)
        tz = dt.timezone(-offset if sign == b"-" else offset)
        value = dt.datetime(year, month, day, hour, minute, second, decis * 100_000, tzinfo=tz)
    except ValueError:
        return data
    return value if encode_datetime(value) == data else data


def encode_datetime(value: dt.datetime) -> bytes:
    """Aware (or naive = UTC) datetime -> 11-octet DateAndTime; sub-deciseconds are dropped."""
    offset = value.utcoffset() or dt.timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    sign = b"-" if minutes < 0 else b"+"
    minutes = abs(minutes)
    return _DATE.pack(
        value.year, value.month, value.day, value.hour, value.minute, value.second,
        value.microsecond // 100_000, sign, minutes // 60, minutes % 60,
    )


def _lang(data: bytes, strict: bool) -> StringWithLanguage | bytes:
    # RFC 8010 §3.9: a (SIGNED-SHORT length, language) then (SIGNED-SHORT length, text).
    if len(data) < 4:
        raise ValueSyntaxError("withLanguage value shorter than 4 bytes")
    n = int.from_bytes(data[0:2], "big")
    if 2 + n + 2 > len(data):
        raise ValueSyntaxError("withLanguage language length runs past the value")
    m = int.from_bytes(data[2 + n:4 + n], "big")
    if 4 + n + m != len(data):
        raise ValueSyntaxError("withLanguage text length does not match the value length")
    try:
        return StringWithLanguage(data[2:2 + n].decode(), data[4 + n:].decode())
    except UnicodeDecodeError:
        if strict:
            raise ValueSyntaxError("invalid UTF-8 in withLanguage value") from None
        return data


def _string(tag: int, data: bytes, strict: bool) -> Scalar:
    try:
        return data.decode()
    except UnicodeDecodeError:
        if strict:
            raise ValueSyntaxError(f"invalid UTF-8 in {Tag(tag).keyword} value") from None
        return data


def _integer(tag: int, data: bytes, strict: bool) -> Scalar:
    if len(data) != 4:
        raise ValueSyntaxError(f"{Tag(tag).keyword} value of {len(data)} bytes, not 4")
    return int.from_bytes(data, "big", signed=True)


def _boolean(tag: int, data: bytes, strict: bool) -> Scalar:
    if data == b"\x01":
        return True
    if data == b"\x00":
        return False
    raise ValueSyntaxError("boolean value is not one byte 0 or 1")


def _date_time(tag: int, data: bytes, strict: bool) -> Scalar:
    if len(data) != 11:
        raise ValueSyntaxError(f"dateTime value of {len(data)} bytes, not 11")
    return decode_datetime(data)


def _resolution(tag: int, data: bytes, strict: bool) -> Scalar:
    if len(data) != 9:
        raise ValueSyntaxError(f"resolution value of {len(data)} bytes, not 9")
    return Resolution(*_RES.unpack(data))


def _range(tag: int, data: bytes, strict: bool) -> Scalar:
    if len(data) != 8:
        raise ValueSyntaxError(f"rangeOfInteger value of {len(data)} bytes, not 8")
    return RangeOfInteger(*_RANGE.unpack(data))


def _with_language(tag: int, data: bytes, strict: bool) -> Scalar:
    return _lang(data, strict)


def _extension(tag: int, data: bytes, strict: bool) -> Scalar:
    # RFC 8010 §3.5.2: the first 4 octets are the extended tag, high bit 0.
    if len(data) < 4:
        raise ValueSyntaxError("extension value shorter than 4 bytes")
    if data[0] & 0x80:
        raise ValueSyntaxError("extension tag above 0x7fffffff")
    return data


def _out_of_band(tag: int, data: bytes, strict: bool) -> Scalar:
    # RFC 8010 §3.8: out-of-band values have length 0; keep stray bytes to round-trip.
    return None if not data else data


_DECODERS: dict[int, Callable[[int, bytes, bool], Scalar]] = {
    **{int(t): _string for t in STRING_TAGS},
    Tag.INTEGER: _integer, Tag.ENUM: _integer, Tag.BOOLEAN: _boolean,
    Tag.DATE_TIME: _date_time, Tag.RESOLUTION: _resolution, Tag.RANGE_OF_INTEGER: _range,
    Tag.TEXT_WITH_LANGUAGE: _with_language, Tag.NAME_WITH_LANGUAGE: _with_language,
    Tag.EXTENSION: _extension,
    **{t: _out_of_band for t in range(0x10, 0x20)},
}


def decode_value(tag: int, data: bytes, strict_utf8: bool = True) -> Scalar:
    """Decode one value field; raises :class:`ValueSyntaxError` when it does not fit its tag.

    octetString and unregistered tags give the raw bytes, never decoded.
    """
    decoder = _DECODERS.get(tag)
    return data if decoder is None else decoder(tag, data, strict_utf8)


# The Python type each tag takes when encoding (bytes are accepted as raw data where the
# decoder itself can produce bytes: lenient strings, non-canonical dateTime, stray out-of-band).
_STRUCTURAL = frozenset({Tag.BEGIN_COLLECTION, Tag.END_COLLECTION, Tag.MEMBER_ATTR_NAME})
_EXPECTED: dict[int, type | tuple[type, ...]] = {
    **{int(t): (str, bytes) for t in STRING_TAGS},
    Tag.INTEGER: int, Tag.ENUM: int, Tag.BOOLEAN: bool,
    Tag.DATE_TIME: (dt.datetime, bytes), Tag.RESOLUTION: Resolution,
    Tag.RANGE_OF_INTEGER: RangeOfInteger,
    Tag.TEXT_WITH_LANGUAGE: (StringWithLanguage, bytes),
    Tag.NAME_WITH_LANGUAGE: (StringWithLanguage, bytes),
    **{t: (type(None), bytes) for t in range(0x10, 0x20)},
}


def encode_value(tag: int, value: object) -> bytes:
    """Encode one non-collection value for ``tag``; TypeError when the type does not fit."""
    if tag in _STRUCTURAL:
        raise TypeError(f"tag 0x{tag:02x} is structural, not a value")
    expected = _EXPECTED.get(tag, bytes)
    if not isinstance(value, expected) or (
        isinstance(value, bool) and tag in (Tag.INTEGER, Tag.ENUM)
    ):
        raise TypeError(f"{type(value).__name__} value does not fit tag 0x{tag:02x}")
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, bytes):
        return value
    if isinstance(value, bool):
        return b"\x01" if value else b"\x00"
    if isinstance(value, int):
        return _INT.pack(value)
    if value is None:
        return b""
    if isinstance(value, dt.datetime):
        return encode_datetime(value)
    if isinstance(value, Resolution):
        return _RES.pack(value.x, value.y, value.units)
    if isinstance(value, RangeOfInteger):
        return _RANGE.pack(value.lower, value.upper)
    if isinstance(value, StringWithLanguage):
        lang, text = value.language.encode(), value.text.encode()
        return len(lang).to_bytes(2, "big") + lang + len(text).to_bytes(2, "big") + text
    raise TypeError(f"cannot encode {type(value).__name__} as tag 0x{tag:02x}")


def split_extension(value: bytes) -> tuple[int, bytes]:
    """An extension (0x7F) value -> (extended tag, value bytes), RFC 8010 §3.5.2."""
    return int.from_bytes(value[:4], "big"), value[4:]
