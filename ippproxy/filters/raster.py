"""PWG raster (PWG 5102.4) and Apple raster (URF) page headers and pages.

Theory of operation
-------------------
A raster stream is a file header, then per page a fixed-size page header and
the page's compressed pixel data, whose length is recorded nowhere.  We read
each page header (geometry, resolution, colour space), validate it, and let
``raster_walk`` skip the compressed data (optionally deciding colour on the
way); the next page header starts where the walk ends.  Gray colour spaces
are never colour and are not inspected; colour spaces we do not know give an
unknown (``None``) verdict.
"""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass
from pathlib import Path

from ippproxy.filters.errors import FormatError
from ippproxy.filters.model import PageSize
from ippproxy.filters.raster_walk import CHROMA_THRESHOLD, BufferSource, Source, file_source

__all__ = [
    "CHROMA_THRESHOLD",
    "MAX_DIMENSION",
    "PWG_HEADER",
    "PWG_SYNC",
    "URF_HEADER",
    "URF_SYNC",
    "RasterPage",
    "walk_file",
    "walk_pwg",
    "walk_urf",
]

PWG_SYNC = b"RaS2"
URF_SYNC = b"UNIRAST\x00"
PWG_HEADER = 1796
URF_HEADER = 32
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


def _check_dims(width: int, height: int, bpp_bits: int, offset: int,
                sub_byte: bool = False) -> None:
    if not (0 < width <= MAX_DIMENSION and 0 < height <= MAX_DIMENSION):
        raise FormatError(f"implausible raster page size {width}x{height}", offset=offset)
    if sub_byte and bpp_bits in (1, 2, 4):
        return
    if bpp_bits == 0 or bpp_bits % 8 or bpp_bits > 64:
        raise FormatError(f"unsupported bits per pixel {bpp_bits}", offset=offset)


def walk_pwg(buf: bytes | mmap.mmap, *, colour: bool = False) -> list[RasterPage]:
    """All pages of a PWG raster stream (PWG 5102.4 §4)."""
    return _pwg_pages(BufferSource(buf), colour)


def walk_urf(buf: bytes | mmap.mmap, *, colour: bool = False) -> list[RasterPage]:
    """All pages of an Apple raster (URF) stream."""
    return _urf_pages(BufferSource(buf), colour)


def walk_file(path: Path, fmt: str, *, colour: bool = False) -> list[RasterPage]:
    """Walk a raster file; memory does not grow with the file (see raster_walk)."""
    with file_source(path) as src:
        if fmt == "image/urf":
            return _urf_pages(src, colour)
        return _pwg_pages(src, colour)


def _pwg_pages(src: Source, colour: bool) -> list[RasterPage]:
    if src.read(4) != PWG_SYNC:
        raise FormatError("not a PWG raster stream (no RaS2 sync word)", offset=0)
    pages: list[RasterPage] = []
    while not src.at_end():
        pos = src.tell()
        h = src.read(PWG_HEADER)
        if len(h) < PWG_HEADER:
            raise FormatError("truncated PWG page header", offset=pos)
        x_dpi, y_dpi = struct.unpack_from(">II", h, 276)
        pw, ph = struct.unpack_from(">II", h, 352)                 # PageSize, points
        width, height, _, _, bpp_bits, bpl, order, cspace = struct.unpack_from(">8I", h, 372)
        # black_1 (1 bit per pixel) is one of IPP Everywhere's required raster types
        # (PWG 5100.14 §4.3); under 8 bits the unit of compression is a byte of pixels
        # (PWG 5102.4 §5.3), so such a line is BytesPerLine units of one byte.
        _check_dims(width, height, bpp_bits, pos, sub_byte=True)
        if bpl != (width * bpp_bits + 7) // 8 or order != 0:
            raise FormatError("inconsistent PWG header (BytesPerLine or ColorOrder)", offset=pos)
        unit = max(bpp_bits // 8, 1)
        inspect = colour and cspace in _PWG_RGB and bpp_bits >= 8
        is_colour = src.skip_page(bpl // unit, height, unit, inspect)
        if not (pw and ph):
            pw, ph = round(width * 72 / max(x_dpi, 1)), round(height * 72 / max(y_dpi, 1))
        pages.append(RasterPage(width, height, bpp_bits, cspace, x_dpi, y_dpi,
                                PageSize(float(pw), float(ph)), pos,
                                is_colour if inspect else (False if cspace in _PWG_GRAY else None)))
    return pages


def _urf_pages(src: Source, colour: bool) -> list[RasterPage]:
    head = src.read(12)
    if head[:8] != URF_SYNC:
        raise FormatError("not an Apple raster stream (no UNIRAST header)", offset=0)
    if len(head) < 12:
        raise FormatError("truncated URF file header", offset=8)
    pages: list[RasterPage] = []
    while not src.at_end():
        pos = src.tell()
        h = src.read(URF_HEADER)
        if len(h) < URF_HEADER:
            raise FormatError("truncated URF page header", offset=pos)
        bpp_bits, cspace = h[0], h[1]
        width, height, dpi = struct.unpack_from(">III", h, 12)
        _check_dims(width, height, bpp_bits, pos)
        if dpi == 0 or dpi > 10000:
            raise FormatError(f"implausible URF resolution {dpi}", offset=pos)
        inspect = colour and cspace in _URF_RGB
        is_colour = src.skip_page(width, height, bpp_bits // 8, inspect)
        size = PageSize(width * 72 / dpi, height * 72 / dpi)
        pages.append(RasterPage(width, height, bpp_bits, cspace, dpi, dpi, size, pos,
                                is_colour if inspect else (False if cspace in _URF_GRAY else None)))
    return pages
