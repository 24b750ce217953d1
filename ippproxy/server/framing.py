"""Where a client is in its HTTP/1.1 messages: between requests, in a head, or in a body.

Sans-I/O: ``Framing.feed`` takes the bytes a connection receives, in any pieces, and keeps
``phase`` up to date, following the message framing of RFC 9112 without keeping the body:
the head is everything up to the first empty line (§2.1; empty lines before a request line
are skipped, §2.2); a body is ``Content-Length`` octets (§6.2), or chunks up to the last
chunk and the trailer section when ``chunked`` is the final transfer coding (§7.1); a
request with neither has no body (§6.3). ``heads`` counts the heads begun.

It only follows the framing for the deadlines (deadlines.py); aiohttp parses and judges the
messages. What this cannot follow (an ``Upgrade``, ``CONNECT``, an invalid length, a transfer
coding other than chunked last, an over-long head or chunk line) turns the phase ``OPAQUE``
for the rest of the connection: no deadline applies any more, and aiohttp answers the bad
ones with 400 and closes.
"""

from __future__ import annotations

import enum

# Heads and lines longer than aiohttp accepts (8190 per line, a few hundred fields).
MAX_HEAD = 1 << 20
MAX_LINE = 1 << 14
HEXDIG = b"0123456789abcdefABCDEF"     # RFC 9112 §7.1: chunk-size = 1*HEXDIG
MAX_CHUNK_DIGITS = 16


class Phase(enum.Enum):
    IDLE = "idle"        # between requests (or before the first)
    HEAD = "head"        # inside a request head
    BODY = "body"        # inside a request body
    OPAQUE = "opaque"    # framing not followed any more


class _Step(enum.Enum):
    DATA = "data"            # Content-Length octets or one chunk's data
    SIZE = "size"            # a chunk-size line
    DATA_END = "data-end"    # the CRLF after a chunk's data
    TRAILER = "trailer"      # trailer field lines up to the empty line


class Framing:
    """The phase of one connection's requests, from the bytes it sent."""

    def __init__(self) -> None:
        self.phase = Phase.IDLE
        self.heads = 0
        self._buf = bytearray()       # the head, or the current chunk or trailer line
        self._step = _Step.DATA
        self._remaining = 0
        self._chunked = False

    def feed(self, data: bytes) -> None:
        pos, end = 0, len(data)
        while pos < end and self.phase is not Phase.OPAQUE:
            if self.phase is Phase.IDLE:
                while pos < end and data[pos] in b"\r\n":
                    pos += 1          # RFC 9112 §2.2: empty lines before a request line
                if pos == end:
                    return
                self.phase, self.heads = Phase.HEAD, self.heads + 1
                self._buf.clear()
            if self.phase is Phase.HEAD:
                pos = self._head(data, pos)
            elif self._step is _Step.DATA:
                take = min(self._remaining, end - pos)
                pos += take
                self._remaining -= take
                if self._remaining == 0:
                    self._data_done()
            else:
                pos = self._line(data, pos)

    def _head(self, data: bytes, pos: int) -> int:
        before = len(self._buf)
        self._buf += data[pos:]
        found = self._buf.find(b"\r\n\r\n", max(0, before - 3))
        if found < 0:
            if len(self._buf) > MAX_HEAD:
                self._opaque()
            return len(data)
        head = bytes(self._buf[:found])
        self._buf.clear()
        self._framing(head)
        return pos + found + 4 - before

    def _framing(self, head: bytes) -> None:
        """The body that follows ``head`` (RFC 9112 §6.3)."""
        lines = head.split(b"\r\n")
        method = lines[0].split(b" ", 1)[0]
        codings: list[bytes] = []
        lengths: set[bytes] = set()
        upgrade = False
        for line in lines[1:]:
            name, sep, value = line.partition(b":")
            if not sep:
                continue
            key = name.strip().lower()
            if key == b"transfer-encoding":
                codings += [c.strip().lower() for c in value.split(b",") if c.strip()]
            elif key == b"content-length":
                lengths.update(v.strip() for v in value.split(b","))
            elif key == b"connection":
                upgrade |= b"upgrade" in [t.strip().lower() for t in value.split(b",")]
        if method == b"CONNECT" or upgrade:
            self._opaque()
        elif codings:
            if codings[-1] != b"chunked":
                self._opaque()
            else:
                self.phase, self._chunked, self._step = Phase.BODY, True, _Step.SIZE
        elif lengths:
            value = lengths.pop()
            if lengths or not value.isdigit():
                self._opaque()
            elif int(value) == 0:
                self.phase = Phase.IDLE
            else:
                self.phase, self._chunked, self._step = Phase.BODY, False, _Step.DATA
                self._remaining = int(value)
        else:
            self.phase = Phase.IDLE

    def _data_done(self) -> None:
        if self._chunked:
            self._step = _Step.DATA_END
        else:
            self.phase = Phase.IDLE

    def _line(self, data: bytes, pos: int) -> int:
        """One line of the chunked framing (chunk size, CRLF after data, trailer)."""
        newline = data.find(b"\n", pos)
        if newline < 0:
            self._buf += data[pos:]
            if len(self._buf) > MAX_LINE:
                self._opaque()
            return len(data)
        self._buf += data[pos:newline]
        line = bytes(self._buf).rstrip(b"\r")
        self._buf.clear()
        if self._step is _Step.SIZE:
            size = line.split(b";", 1)[0].strip()
            if not size or size.strip(HEXDIG) or len(size) > MAX_CHUNK_DIGITS:
                self._opaque()
                return newline + 1
            self._remaining = int(size, 16)
            self._step = _Step.TRAILER if self._remaining == 0 else _Step.DATA
        elif self._step is _Step.DATA_END:
            if line:
                self._opaque()
            self._step = _Step.SIZE
        elif not line:                                  # the end of the trailer section
            self.phase = Phase.IDLE
        return newline + 1

    def _opaque(self) -> None:
        self.phase = Phase.OPAQUE
        self._buf.clear()
