"""Streaming decompression (IPP ``compression``, RFC 8011 §5.4.32), hashing and
size limits for the spool. Runs in spool worker threads, never on the event loop."""

from __future__ import annotations

import hashlib
import zlib

from ippproxy.jobs._fsio import write_all

BATCH = 1 << 20
COMPRESSIONS = ("none", "gzip", "deflate")


class SpoolError(Exception):
    pass


class SpoolLimitExceeded(SpoolError):
    """The (decompressed) document is larger than the spool's ``max_bytes``."""


class SpoolCompressionError(SpoolError):
    """Compressed data is corrupt or truncated (job-state-reason ``compression-error``)."""


def is_zlib_header(head: bytes) -> bool:
    """RFC 1950 header? (A raw RFC 1951 stream from a sane encoder never looks like one.)"""
    return (
        len(head) >= 2
        and head[0] & 0x0F == 8
        and head[0] >> 4 <= 7
        and (head[0] << 8 | head[1]) % 31 == 0
        and not head[1] & 0x20
    )


class Inflater:
    """Streaming decompression with a bounded output per call."""

    def __init__(self, compression: str) -> None:
        self.compression = compression
        self._d: zlib._Decompress | None = None
        self._head = b""
        if compression == "gzip":
            self._d = zlib.decompressobj(16 + zlib.MAX_WBITS)

    def feed(self, data: bytes, sink: Sink) -> None:
        try:
            self._feed(data, sink)
        except zlib.error as e:
            raise SpoolCompressionError(f"{self.compression} data is corrupt: {e}") from None

    def _feed(self, data: bytes, sink: Sink) -> None:
        data, self._head = self._head + data, b""
        if self._d is None:  # deflate: zlib-wrapped or raw? Decided by the first two bytes.
            if len(data) < 2:
                self._head = data
                return
            self._d = zlib.decompressobj(zlib.MAX_WBITS if is_zlib_header(data) else -15)
        while data:
            if self._d.eof:  # more input after the end of a stream
                if self.compression != "gzip" or data[:2] not in (b"\x1f\x8b", b"\x1f"):
                    raise SpoolCompressionError(
                        f"unexpected data after the {self.compression} stream"
                    )
                if len(data) < 2:
                    self._head = data
                    return
                self._d = zlib.decompressobj(16 + zlib.MAX_WBITS)  # next gzip member (RFC 1952)
            sink.put(self._d.decompress(data, BATCH))
            data = self._d.unused_data if self._d.eof else self._d.unconsumed_tail

    def finish(self, sink: Sink) -> None:
        if self._d is None or self._head:
            raise SpoolCompressionError(f"{self.compression} data is truncated")
        if not self._d.eof:
            raise SpoolCompressionError(f"{self.compression} data is truncated")


class Sink:
    """Hash, count and write decompressed output (runs in a worker thread)."""

    def __init__(self, fd: int, max_bytes: int) -> None:
        self.fd = fd
        self.max_bytes = max_bytes
        self.size = 0
        self.sha = hashlib.sha256()

    def put(self, data: bytes) -> None:
        if not data:
            return
        self.size += len(data)
        if self.size > self.max_bytes:
            raise SpoolLimitExceeded(f"document is larger than {self.max_bytes} bytes")
        self.sha.update(data)
        write_all(self.fd, data)
