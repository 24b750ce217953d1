"""Skipping the compressed pixel data of PWG raster and URF pages.

Theory of operation
-------------------
Neither format records the length of a page's pixel data, so the only exact
way to find the next page header is to walk the compressed data.  Both use
the same scheme (PWG 5102.4 §4.3.5; URF is the same after a 32-byte header):
each line group starts with a *line repeat* byte (the line occurs n+1 times),
followed by runs until ``width`` pixels are filled: a control byte c < 128
repeats the next pixel c+1 times, c > 128 copies 257-c literal pixels, and
c == 128 fills the rest of the line with white.  We walk those runs, never
expanding pixels, with every read bounds-checked: a run that overflows a
line, a page with more lines than its header says, or data that ends inside
a page raise ``FormatError`` with the byte offset.

There are two implementations with identical results (end offset, colour
verdict, error message and offset): the C extension ``_rasterwalk`` (built
by ``pip install``; memory speed, without the GIL) and ``walk_page_py``, the
fallback when the extension cannot be imported.  ``NATIVE`` selects; tests
flip it to compare both.

The walk reads a *source*: ``BufferSource`` over bytes or an mmap, or for a
file the native ``FileWalker``, which reads with pread() in 1 MiB blocks into
one reused buffer, so neither memory nor address space grows with the file
(the analysis workers run under RLIMIT_AS).  The fallback maps the file.

Colour (optional) is decided on the compressed runs themselves: a repeated
pixel is one check, a literal run is checked with slice comparisons in the
fallback (``r == g == b`` is exact and runs at C speed); only runs that are
not exactly neutral get the per-pixel chroma test.  A pixel is colour when
max(R,G,B) - min(R,G,B) > ``CHROMA_THRESHOLD``; only 24- and 48-bit pixels
are inspected (for 48 bits, the high byte of each sample).
"""

from __future__ import annotations

import mmap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from ippproxy.filters.errors import FormatError

try:
    from ippproxy.filters import _rasterwalk
except ImportError:  # no compiler at install time: the pure-Python walker below
    _rasterwalk = None  # type: ignore[assignment]

CHROMA_THRESHOLD = 24   # out of 255; the same threshold as the rendered-page check
NATIVE = _rasterwalk is not None
BLOCK_SIZE = 1 << 20


def _chroma_exceeds(run: bytes, bpp: int) -> bool:
    if bpp == 3:
        r, g, b = run[0::3], run[1::3], run[2::3]
    elif bpp == 6:   # 16 bits per colour: the high bytes suffice
        r, g, b = run[0::6], run[2::6], run[4::6]
    else:
        return False
    if r == g == b:
        return False
    for i in range(len(r)):
        x, y, z = r[i], g[i], b[i]
        if max(x, y, z) - min(x, y, z) > CHROMA_THRESHOLD:
            return True
    return False


def walk_page_py(buf: bytes | mmap.mmap, pos: int, width: int, height: int, bpp: int,
                 check_colour: bool) -> tuple[int, bool]:
    """Skip one page of compressed data starting at ``pos``; return (end, is_colour)."""
    end = len(buf)
    y = 0
    colour = False
    line_bytes = width * bpp
    while y < height:
        if pos >= end:
            raise FormatError(f"raster data ends inside a page at line {y} of {height}",
                              offset=pos)
        y += buf[pos] + 1
        pos += 1
        x = 0
        while x < width:
            if pos >= end:
                raise FormatError("raster data ends inside a line", offset=pos)
            c = buf[pos]
            if c < 128:
                nxt = pos + 1 + bpp
                if nxt > end:
                    raise FormatError("raster data ends inside a run", offset=pos)
                if check_colour and not colour and bpp >= 3:
                    colour = _chroma_exceeds(buf[pos + 1:nxt], bpp)
                x += c + 1
                pos = nxt
            elif c > 128:
                n = 257 - c
                nxt = pos + 1 + n * bpp
                if nxt > end:
                    raise FormatError("raster data ends inside a run", offset=pos)
                if check_colour and not colour and bpp >= 3:
                    colour = _chroma_exceeds(buf[pos + 1:nxt], bpp)
                x += n
                pos = nxt
            else:
                x = width
                pos += 1
        if x != width or pos > end:
            raise FormatError(f"a run crosses the end of a {line_bytes}-byte line", offset=pos)
    if y != height:
        raise FormatError(f"line repeat overflows the page ({y} lines of {height})", offset=pos)
    return pos, colour


def walk_page_c(buf: bytes | mmap.mmap, pos: int, width: int, height: int, bpp: int,
                check_colour: bool) -> tuple[int, bool]:
    """``walk_page_py`` in C (``_rasterwalk.c``)."""
    try:
        end, colour = _rasterwalk.walk_page(buf, pos, width, height, bpp, check_colour,
                                            CHROMA_THRESHOLD)
    except _rasterwalk.RasterError as e:
        raise FormatError(e.args[0], offset=e.args[1]) from None
    return end, colour


class Source(Protocol):
    """Raster bytes read front to back: page headers with ``read``, data with ``skip_page``."""

    def read(self, n: int) -> bytes: ...           # fewer than n bytes at the end
    def at_end(self) -> bool: ...
    def tell(self) -> int: ...
    def skip_page(self, width: int, height: int, bpp: int, check_colour: bool) -> bool: ...


class BufferSource:
    """A ``Source`` over bytes or an mmap."""

    def __init__(self, buf: bytes | mmap.mmap) -> None:
        self.buf = buf
        self.pos = 0

    def read(self, n: int) -> bytes:
        data = self.buf[self.pos:self.pos + n]
        self.pos += len(data)
        return data

    def at_end(self) -> bool:
        return self.pos >= len(self.buf)

    def tell(self) -> int:
        return self.pos

    def skip_page(self, width: int, height: int, bpp: int, check_colour: bool) -> bool:
        walk = walk_page_c if NATIVE else walk_page_py
        self.pos, colour = walk(self.buf, self.pos, width, height, bpp, check_colour)
        return colour


class _FileSource:
    """A ``Source`` over the native ``FileWalker`` (pread in large blocks)."""

    def __init__(self, fd: int) -> None:
        self._w = _rasterwalk.FileWalker(fd, BLOCK_SIZE)
        self.read = self._w.read
        self.at_end = self._w.at_end
        self.tell = self._w.tell

    def skip_page(self, width: int, height: int, bpp: int, check_colour: bool) -> bool:
        try:
            return self._w.skip_page(width, height, bpp, check_colour, CHROMA_THRESHOLD)
        except _rasterwalk.RasterError as e:
            raise FormatError(e.args[0], offset=e.args[1]) from None


@contextmanager
def file_source(path: Path) -> Iterator[Source]:
    """A ``Source`` over a file; memory does not grow with the file."""
    with open(path, "rb") as f:
        if f.seek(0, 2) == 0:
            raise FormatError("the document is empty")
        if NATIVE:
            yield _FileSource(f.fileno())
            return
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
            yield BufferSource(m)
