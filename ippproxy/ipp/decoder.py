"""Incremental, sans-I/O decoder for IPP messages (RFC 8010 §3).

Theory of operation
-------------------
An IPP message is a fixed 8-byte header (version-number, operation-id or status-code,
request-id) followed by a flat stream of *tokens* and then, after the end-of-attributes tag
(0x03), the document data:

* a delimiter token is a single tag byte 0x01-0x0F: it starts a new group (a repeated tag starts
  a new group too, e.g. one job group per job in a Get-Jobs response), 0x03 ends the section;
* every other token is ``value-tag, name-length, name, value-length, value``. A non-empty name
  starts an attribute; an empty name adds a value to the previous attribute (1setOf, any tags).

Collections (RFC 8010 §3.1.6) are spelled with the same tokens: ``begCollection`` (0x34) opens
one as a value of the current attribute; inside it ``memberAttrName`` (0x4A, empty name, the
member name as value) starts a member, empty-named value tokens add values to that member (a
nested ``begCollection`` opens a nested collection), and ``endCollection`` (0x37) closes the
innermost collection. The decoder keeps a stack of open collections (*frames*), one per level.

``Decoder.feed()`` appends the chunk to a buffer and resumes parsing at the first unparsed
token: a token is only consumed once all its bytes are present, so a token split across chunks
is simply retried when the next chunk arrives, and no byte is parsed twice (O(n) over the whole
section whatever the chunking). Limits are checked as soon as a length field is readable, so an
over-long name, value or section fails before its bytes arrive. When the end-of-attributes tag
is consumed, ``feed()`` returns the frozen :class:`Message` and ``.rest`` holds the bytes that
followed it in what was fed (the start of the document).

The decoder is structural and lenient about semantics (validate.py checks RFC 8011 rules), but
strict about anything that would break a byte-exact re-encoding: unknown tags keep their raw
bytes, fixed-size values must have their size, begCollection/endCollection/memberAttrName must
have the empty fields the encoder writes. Every error is a :class:`DecodeError` carrying the
byte offset and the IPP status to answer with; after an error the decoder stays failed.
"""

from __future__ import annotations

from .attribute import Attribute, Collection, Value
from .enums import Status
from .errors import DecodeError
from .group import Group
from .limits import Limits
from .message import Message
from .values import _DECODERS, ValueSyntaxError, decode_value

_BEGIN, _END, _MEMBER = 0x34, 0x37, 0x4A
_TOO_LARGE = Status.CLIENT_ERROR_REQUEST_ENTITY_TOO_LARGE
_TOO_LONG = Status.CLIENT_ERROR_REQUEST_VALUE_TOO_LONG
_DEFAULT_LIMITS = Limits()


class _Builder:
    """A mutable attribute under construction."""

    __slots__ = ("name", "values")

    def __init__(self, name: str) -> None:
        self.name = name
        self.values: list[tuple[int, Value]] = []

    def freeze(self) -> Attribute:
        return Attribute(self.name, tuple(self.values))


class _Frame:
    """An open collection: the attribute (or member) it is a value of, and its members."""

    __slots__ = ("current", "members", "owner")

    def __init__(self, owner: _Builder) -> None:
        self.owner = owner
        self.members: list[_Builder] = []
        self.current: _Builder | None = None


class Decoder:
    """Feed bytes in any chunking; ``feed()`` returns the Message once end-of-attributes is seen."""

    def __init__(self, limits: Limits = _DEFAULT_LIMITS) -> None:
        self.limits = limits
        self._strict = limits.strict_utf8
        self._max_values = limits.max_values
        self.rest = b""
        self._buf: bytes | bytearray = b""
        self._pos = 0
        self._header: tuple[tuple[int, int], int, int] | None = None
        self._groups: list[tuple[int, list[_Builder]]] = []
        self._attrs: list[_Builder] | None = None
        self._current: _Builder | None = None
        self._stack: list[_Frame] = []
        self._count = 0
        self._message: Message | None = None
        self._error: DecodeError | None = None
        self._fed = 0

    @property
    def message(self) -> Message | None:
        """The decoded message once complete, else None."""
        return self._message

    @property
    def header(self) -> tuple[tuple[int, int], int, int] | None:
        """(version, code, request_id) once the 8-byte header is in, even if decoding fails
        later: a server echoes the request-id and version in its error response."""
        return self._header

    @property
    def received(self) -> int:
        """Bytes fed so far (attribute section plus any document bytes)."""
        return self._fed

    def feed(self, data: bytes | bytearray | memoryview) -> Message | None:
        """Add a chunk; return the Message when end-of-attributes was reached, else None."""
        if self._error is not None:
            raise self._error
        if self._message is not None:
            raise RuntimeError("message already complete: route further bytes as document data")
        self._fed += len(data)
        if not self._buf:
            self._buf = data if type(data) is bytes else bytes(data)
        else:
            if type(self._buf) is bytes:
                self._buf = bytearray(self._buf)
            self._buf += data
        try:
            return self._parse()
        except DecodeError as exc:
            self._error = exc
            raise

    def close(self) -> Message:
        """The input ended: return the Message, or raise DecodeError saying where it was cut.

        A token cut short names the length field that runs past the end of the data
        (``"value length 100 runs past the end of the data at offset 0x1a"``); otherwise the
        offset is the number of bytes received.
        """
        if self._error is not None:
            raise self._error
        if self._message is not None:
            return self._message
        self._error = self._truncation()
        raise self._error

    def _truncation(self) -> DecodeError:
        buf, pos, n = self._buf, self._pos, len(self._buf)
        if self._header is None:
            return DecodeError(f"message truncated in the header ({n} of 8 bytes)", n)
        if pos < n and pos + 3 <= n:
            nlen = (buf[pos + 1] << 8) | buf[pos + 2]
            vpos = pos + 3 + nlen
            if vpos + 2 > n:
                return DecodeError(f"name length {nlen} runs past the end of the data", pos + 1)
            vlen = (buf[vpos] << 8) | buf[vpos + 1]
            return DecodeError(f"value length {vlen} runs past the end of the data", vpos)
        if pos < n:
            return DecodeError("attribute truncated after its tag", pos)
        where = " inside a collection" if self._stack else ""
        return DecodeError(f"message truncated{where}: no end-of-attributes tag", n)

    # -- parsing ---------------------------------------------------------------------------

    def _parse(self) -> Message | None:
        buf = self._buf
        n = len(buf)
        pos = self._pos
        if self._header is None:
            if n < 8:
                return None
            self._header = (
                (buf[0], buf[1]),
                (buf[2] << 8) | buf[3],
                int.from_bytes(buf[4:8], "big", signed=True),
            )
            pos = 8
        limits = self.limits
        max_section = limits.max_section
        max_name = limits.max_name_length
        max_value = limits.max_value_length
        max_values = limits.max_values
        strict = limits.strict_utf8
        stack = self._stack
        attrs = self._attrs
        current = self._current
        decoders = _DECODERS
        while pos < n:
            tag = buf[pos]
            if tag <= 0x0F:
                # RFC 8010 §3.5.1: delimiter tags.
                if pos + 1 > max_section:
                    raise DecodeError(_too_large(max_section), pos, _TOO_LARGE)
                if tag == 0x03:
                    if stack:
                        raise DecodeError("end-of-attributes inside a collection", pos)
                    return self._finish(pos + 1)
                if tag == 0x00:
                    raise DecodeError("invalid tag 0x00", pos)
                if stack:
                    raise DecodeError(f"group tag 0x{tag:02x} inside a collection", pos)
                attrs = []
                self._groups.append((tag, attrs))
                current = None
                pos += 1
                continue
            # RFC 8010 §3.1.3: value-tag, name-length, name, value-length, value.
            if pos + 3 > n:
                break
            nlen = (buf[pos + 1] << 8) | buf[pos + 2]
            if nlen & 0x8000:
                # RFC 8010 §3.1.4: lengths are SIGNED-SHORT; a negative one is malformed.
                raise DecodeError(f"negative name length {nlen - 0x10000}", pos + 1)
            if nlen > max_name:
                raise DecodeError(
                    f"name length {nlen} exceeds the limit of {max_name}", pos + 1, _TOO_LONG
                )
            vpos = pos + 3 + nlen
            if vpos + 2 > max_section:
                raise DecodeError(_too_large(max_section), pos, _TOO_LARGE)
            if vpos + 2 > n:
                break
            vlen = (buf[vpos] << 8) | buf[vpos + 1]
            if vlen & 0x8000:
                raise DecodeError(f"negative value length {vlen - 0x10000}", vpos)
            if vlen > max_value:
                raise DecodeError(
                    f"value length {vlen} exceeds the limit of {max_value}", vpos, _TOO_LONG
                )
            end = vpos + 2 + vlen
            if end > max_section:
                raise DecodeError(_too_large(max_section), pos, _TOO_LARGE)
            if end > n:
                break
            # The token is complete: consume it (once).
            self._count += 1
            if self._count > max_values:
                raise DecodeError(f"more than {max_values} values", pos, _TOO_LARGE)
            data = buf[vpos + 2:end]
            if type(data) is not bytes:
                data = bytes(data)
            try:
                name = buf[pos + 3:vpos].decode() if nlen else ""
            except UnicodeDecodeError:
                raise DecodeError("invalid UTF-8 in attribute name", pos + 3) from None
            if stack:
                self._member_token(tag, name, data, pos)
                pos = end
                continue
            if attrs is None:
                raise DecodeError("attribute before the first group tag", pos)
            if name:
                if tag == _MEMBER or tag == _END:
                    raise DecodeError(_outside(tag), pos)
                current = _Builder(name)
                attrs.append(current)
            elif current is None:
                if tag == _MEMBER or tag == _END:
                    raise DecodeError(_outside(tag), pos)
                raise DecodeError("additional value with no preceding attribute", pos)
            elif tag == _MEMBER or tag == _END:
                raise DecodeError(_outside(tag), pos)
            convert = decoders.get(tag)
            if convert is None:
                if tag == _BEGIN:
                    self._begin(current, data, pos)
                else:
                    current.values.append((tag, data))  # octetString / unknown: raw bytes
            else:
                try:
                    current.values.append((tag, convert(tag, data, strict)))
                except ValueSyntaxError as exc:
                    raise DecodeError(str(exc), vpos + 2) from None
            pos = end
        self._pos = pos
        self._attrs = attrs
        self._current = current
        return None

    def _member_token(self, tag: int, name: str, data: bytes, pos: int) -> None:
        # RFC 8010 §3.1.6: inside a collection every token has an empty name.
        frame = self._stack[-1]
        if name:
            raise DecodeError(f"attribute {name!r} inside a collection", pos)
        if tag == _MEMBER:
            _check_member_done(frame, pos)
            try:
                member = data.decode()
            except UnicodeDecodeError:
                raise DecodeError("invalid UTF-8 in memberAttrName", pos + 5) from None
            if not member:
                raise DecodeError("empty memberAttrName", pos)
            builder = _Builder(member)
            frame.members.append(builder)
            frame.current = builder
            return
        if tag == _END:
            if data:
                raise DecodeError("endCollection with a value", pos)
            _check_member_done(frame, pos)
            self._stack.pop()
            members = tuple(m.freeze() for m in frame.members)
            frame.owner.values.append((_BEGIN, Collection(members)))
            return
        owner = frame.current
        if owner is None:
            raise DecodeError("collection value without memberAttrName", pos)
        if tag == _BEGIN:
            self._begin(owner, data, pos)
        else:
            owner.values.append((tag, self._value(tag, data, pos)))

    def _begin(self, owner: _Builder, data: bytes, pos: int) -> None:
        if data:
            raise DecodeError("begCollection with a value", pos)
        if len(self._stack) >= self.limits.max_depth:
            raise DecodeError(
                f"collections nested deeper than {self.limits.max_depth}", pos
            )
        self._stack.append(_Frame(owner))

    def _value(self, tag: int, data: bytes, pos: int) -> Value:
        """A collection member value (empty name, so the value starts at pos + 5)."""
        try:
            return decode_value(tag, data, self.limits.strict_utf8)
        except ValueSyntaxError as exc:
            raise DecodeError(str(exc), pos + 5) from None

    def _finish(self, end: int) -> Message:
        assert self._header is not None
        version, code, request_id = self._header
        groups = tuple(
            Group(tag, tuple(b.freeze() for b in attrs)) for tag, attrs in self._groups
        )
        self._message = Message(version, code, request_id, groups)
        self._pos = end
        self.rest = bytes(self._buf[end:])
        self._buf = b""  # release the section; only .rest is kept
        self._groups = []
        return self._message


def _outside(tag: int) -> str:
    if tag == _MEMBER:
        return "memberAttrName outside a collection"
    return "endCollection without begCollection"


def _check_member_done(frame: _Frame, pos: int) -> None:
    if frame.current is not None and not frame.current.values:
        raise DecodeError(f"collection member {frame.current.name!r} without a value", pos)


def _too_large(limit: int) -> str:
    return f"attribute section larger than {limit} bytes"


def decode(data: bytes, limits: Limits = _DEFAULT_LIMITS) -> Message:
    """Decode a whole buffer; bytes after end-of-attributes are ignored (see Decoder.rest)."""
    decoder = Decoder(limits)
    message = decoder.feed(data)
    return message if message is not None else decoder.close()
