"""PWG raster (PWG 5102.4) and Apple raster (URF) page walkers.

Theory of operation
-------------------
Neither format records the length of a page's pixel data, so the only exact
way to find the next page header is to walk the compressed data.  Both use
the same scheme (PWG 5102.4 §4.3.5; URF is the same with a 32-byte header):
each line group starts with a *line repeat* byte (the line occurs n+1 times),
followed by runs until ``width`` pixels are filled: a control byte c < 128
repeats the next pixel c+1 times, c > 128 copies 257-c literal pixels, and
c == 128 fills the rest of the line with white.  We walk those runs, never
expanding pixels, with every read bounds-checked: a run that overflows a
line, a page with more lines than its header says, or data that ends inside
a page raise ``FormatError`` with the byte offset.

Colour (optional) is decided on the compressed runs themselves: a repeated
pixel is one check, a literal run is checked with slice comparisons
(``r == g == b`` is exact and runs at C speed); only runs that are not exactly
neutral get the per-pixel chroma test.  A pixel is colour when
max(R,G,B) - min(R,G,B) > ``CHROMA_THRESHOLD``.  Gray colour spaces are
never colour and are not inspected.
"""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass
from pathlib import Path

from ippproxy.filters.errors import FormatError
from ippproxy.filters.model import PageSize

PWG_SYNC = b"RaS2"
URF_SYNC = b"UNIRAST\x00"
PWG_HEADER = 1796
URF_HEADER = 32
CHROMA_THRESHOLD = 24   # out of 255; the same threshold as the rendered-page check
MAX_DIMENSION = 1 << 17  # pixels per side: 36 m at 96 dpi; anything larger is hostile

# cupsColorSpace values (PWG 5102.4 §4.3.1.20): which are RGB-like, which are gray-like.
_PWG_RGB = {1, 19, 20}            # RGB, sRGB, AdobeRGB
_PWG_GRAY = {0, 3, 18}            # W (DeviceW), K, sGray
_URF_RGB = {1, 3, 5}              # sRGB, AdobeRGB, DeviceRGB
_URF_GRAY = {0, 4}                # sGray, DeviceGray


@dataclass(frozen=True)
class RasterPage:
    width: int
    height: int
    bits_per_pixel: int
    colour_space: int
    x_dpi: int
    y_dpi: int
    size: PageSize                  # points
    offset: int                     # byte offset of the page header
    colour: bool | None             # None: not inspected


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


def _walk_page(buf: bytes | mmap.mmap, pos: int, width: int, height: int, bpp: int,
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


def _check_dims(width: int, height: int, bpp_bits: int, offset: int) -> None:
    if not (0 < width <= MAX_DIMENSION and 0 < height <= MAX_DIMENSION):
        raise FormatError(f"implausible raster page size {width}x{height}", offset=offset)
    if bpp_bits == 0 or bpp_bits % 8 or bpp_bits > 64:
        raise FormatError(f"unsupported bits per pixel {bpp_bits}", offset=offset)


def walk_pwg(buf: bytes | mmap.mmap, *, colour: bool = False) -> list[RasterPage]:
    """All pages of a PWG raster stream (PWG 5102.4 §4)."""
    if buf[:4] != PWG_SYNC:
        raise FormatError("not a PWG raster stream (no RaS2 sync word)", offset=0)
    pages: list[RasterPage] = []
    pos = 4
    while pos < len(buf):
        if pos + PWG_HEADER > len(buf):
            raise FormatError("truncated PWG page header", offset=pos)
        h = buf[pos:pos + PWG_HEADER]
        x_dpi, y_dpi = struct.unpack_from(">II", h, 276)
        pw, ph = struct.unpack_from(">II", h, 352)                 # PageSize, points
        width, height, _, _, bpp_bits, bpl, order, cspace = struct.unpack_from(">8I", h, 372)
        _check_dims(width, height, bpp_bits, pos)
        if bpl != width * bpp_bits // 8 or order != 0:
            raise FormatError("inconsistent PWG header (BytesPerLine or ColorOrder)", offset=pos)
        inspect = colour and cspace in _PWG_RGB
        end, is_colour = _walk_page(buf, pos + PWG_HEADER, width, height, bpp_bits // 8, inspect)
        if not (pw and ph):
            pw, ph = round(width * 72 / max(x_dpi, 1)), round(height * 72 / max(y_dpi, 1))
        pages.append(RasterPage(width, height, bpp_bits, cspace, x_dpi, y_dpi,
                                PageSize(float(pw), float(ph)), pos,
                                is_colour if inspect else (False if cspace in _PWG_GRAY else None)))
        pos = end
    return pages


def walk_urf(buf: bytes | mmap.mmap, *, colour: bool = False) -> list[RasterPage]:
    """All pages of an Apple raster (URF) stream."""
    if buf[:8] != URF_SYNC:
        raise FormatError("not an Apple raster stream (no UNIRAST header)", offset=0)
    if len(buf) < 12:
        raise FormatError("truncated URF file header", offset=8)
    pages: list[RasterPage] = []
    pos = 12
    while pos < len(buf):
        if pos + URF_HEADER > len(buf):
            raise FormatError("truncated URF page header", offset=pos)
        bpp_bits, cspace = buf[pos], buf[pos + 1]
        width, height, dpi = struct.unpack_from(">III", buf, pos + 12)
        _check_dims(width, height, bpp_bits, pos)
        if dpi == 0 or dpi > 10000:
            raise FormatError(f"implausible URF resolution {dpi}", offset=pos)
        inspect = colour and cspace in _URF_RGB
        end, is_colour = _walk_page(buf, pos + URF_HEADER, width, height, bpp_bits // 8, inspect)
        size = PageSize(width * 72 / dpi, height * 72 / dpi)
        pages.append(RasterPage(width, height, bpp_bits, cspace, dpi, dpi, size, pos,
                                is_colour if inspect else (False if cspace in _URF_GRAY else None)))
        pos = end
    return pages


def walk_file(path: Path, fmt: str, *, colour: bool = False) -> list[RasterPage]:
    """Walk a raster file through mmap (memory does not grow with the file)."""
    with open(path, "rb") as f:
        if f.seek(0, 2) == 0:
            raise FormatError("the document is empty")
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
            if fmt == "image/urf":
                return walk_urf(m, colour=colour)
            return walk_pwg(m, colour=colour)
