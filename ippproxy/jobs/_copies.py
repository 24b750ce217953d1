"""A small document's bytes in the job store (``spool_copies``), compressed when that pays.

Theory of operation
-------------------
A document kept in the database (spool.py, the small-document road) is written into the
write-ahead log in the job's COMMIT, into the database file by the next checkpoint, and
freed when the job ends: every byte of it costs three page writes and the writer's time
for them, while the client waits for that COMMIT. A PDF's page objects, fonts and
cross-reference table are mostly uncompressed text, which zlib's fastest level shrinks
several times over, in fewer pages (README, "Intake, twenty-fourth session"). An image or
an already deflated document gains nothing, so a copy is kept compressed only when that
saves an eighth or more; ``encoding`` says which ("zlib", RFC 1950; NULL: the bytes as
received). Packing happens in the job store's writer thread (zlib releases the GIL),
never on the event loop; unpacking in the reader's thread.
"""

from __future__ import annotations

import logging
import zlib
from typing import Any

log = logging.getLogger(__name__)
ZLIB = "zlib"
LEVEL = 1            # the fastest: the point is fewer pages, not the smallest copy


def pack(row: dict[str, Any]) -> dict[str, Any]:
    """A ``spool_copies`` row with its ``content`` compressed when that pays."""
    content = row["content"]
    packed = zlib.compress(content, LEVEL)
    if len(packed) <= len(content) - len(content) // 8:
        return {**row, "content": packed, "encoding": ZLIB}
    return {**row, "encoding": None}


class CopyDamaged(ValueError):
    """A stored copy that does not decode: it is no copy (recovery aborts its job if the
    file is damaged too; a reader finds no document)."""


def unpack(content: bytes, encoding: str | None) -> bytes:
    """The document's bytes from a stored copy (``CopyDamaged``: logged here, once)."""
    try:
        return _unpack(content, encoding)
    except CopyDamaged as e:
        log.error("job store: %s; the copy is treated as missing", e)
        raise


def _unpack(content: bytes, encoding: str | None) -> bytes:
    if encoding is None:
        return bytes(content)
    if encoding != ZLIB:
        raise CopyDamaged(f"unknown encoding {encoding!r} of a document copy")
    try:
        return zlib.decompress(content)
    except zlib.error as e:
        raise CopyDamaged(f"a document copy does not decompress: {e}") from None
