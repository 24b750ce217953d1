"""Encode a Message to bytes (RFC 8010 §3); the inverse of decoder.py, byte for byte."""

from __future__ import annotations

import struct

from .attribute import Attribute, Collection, Value
from .errors import EncodeError
from .message import Message
from .values import encode_value

_HEADER = struct.Struct(">BBHi")
_BEGIN, _END, _MEMBER = b"\x34", b"\x37", 0x4A
_MAX = 0xFFFF  # a length field is two octets


def encode(message: Message) -> bytes:
    """The wire form of ``message``, ending with end-of-attributes (no document data)."""
    major, minor = message.version
    try:
        out = [_HEADER.pack(major, minor, message.code, message.request_id)]
    except struct.error as exc:
        raise EncodeError(f"bad message header: {exc}") from None
    for group in message.groups:
        if not 0x01 <= group.tag <= 0x0F or group.tag == 0x03:
            raise EncodeError(f"bad group tag 0x{group.tag:02x}")
        out.append(bytes((group.tag,)))
        for attribute in group.attributes:
            _attribute(out, attribute, attribute.name.encode())
    out.append(b"\x03")
    return b"".join(out)


def encode_attribute(attribute: Attribute) -> bytes:
    """The tokens of one attribute (e.g. to store a group's attributes)."""
    out: list[bytes] = []
    _attribute(out, attribute, attribute.name.encode())
    return b"".join(out)


def _attribute(out: list[bytes], attribute: Attribute, name: bytes) -> None:
    if not name:
        raise EncodeError("attribute with an empty name")
    if not attribute.values:
        raise EncodeError(f"attribute {attribute.name!r} has no value")
    for tag, value in attribute.values:
        _value(out, tag, value, name)
        name = b""  # additional values have an empty name (RFC 8010 §3.1.4)


def _value(out: list[bytes], tag: int, value: Value, name: bytes) -> None:
    if not 0x10 <= tag <= 0xFF:
        raise EncodeError(f"bad value tag 0x{tag:x}")
    if len(name) > _MAX:
        raise EncodeError("attribute name longer than 65535 bytes")
    if isinstance(value, Collection):
        if tag != 0x34:
            raise EncodeError(f"collection value with tag 0x{tag:02x}, not begCollection")
        # RFC 8010 §3.1.6: begCollection, then memberAttrName + values per member, endCollection.
        out.append(_BEGIN + len(name).to_bytes(2, "big") + name + b"\x00\x00")
        for member in value.attributes:
            mname = member.name.encode()
            if not mname:
                raise EncodeError("collection member with an empty name")
            out.append(_token(_MEMBER, b"", mname))
            if not member.values:
                raise EncodeError(f"collection member {member.name!r} has no value")
            for mtag, mvalue in member.values:
                _value(out, mtag, mvalue, b"")
        out.append(_END + b"\x00\x00\x00\x00")
        return
    try:
        data = encode_value(tag, value)
    except (TypeError, struct.error, OverflowError) as exc:
        raise EncodeError(f"value of {name.decode() or 'attribute'!r}: {exc}") from None
    out.append(_token(tag, name, data))


def _token(tag: int, name: bytes, data: bytes) -> bytes:
    if len(data) > _MAX:
        raise EncodeError("value longer than 65535 bytes")
    return b"".join(
        (bytes((tag,)), len(name).to_bytes(2, "big"), name, len(data).to_bytes(2, "big"), data)
    )
