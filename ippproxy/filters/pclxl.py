"""PCL XL (PCL 6) page count by walking the binary operator stream.

Theory of operation
-------------------
A PCL XL stream (PCL XL Feature Reference Protocol Class 2.0/2.1) is a
sequence of tagged items after the ``) HP-PCL XL;...`` header line: data
values (tags 0xC0-0xE5, arrays carrying their own length), attribute ids
(0xF8 + byte, 0xF9 + uint16) that name the value before them, embedded data
(0xFA + uint32 length, 0xFB + byte length: raster, fonts; skipped by length)
and operators (0x41-0xBF) that consume the attributes before them.  We never
interpret graphics: a page is ``BeginPage`` ... ``EndPage``, its size is the
``MediaSize`` (attribute 37) or ``CustomMediaSize`` (47) of BeginPage, its copy
count the ``PageCopies`` (49) of EndPage.  ``SetColorSpace`` (attribute 3) tells
whether anything but gray (eGray = 1, eBiLevel = 0) was ever selected: if
not, the document is gray; if so, its colour pages are unknown (None).
Every read is bounds-checked; errors carry the byte offset.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from ippproxy.filters.errors import FormatError
from ippproxy.filters.model import MM, PageSize

BEGIN_PAGE, END_PAGE, SET_COLOR_SPACE = 0x43, 0x44, 0x6A
A_COLOR_SPACE, A_MEDIA_SIZE, A_CUSTOM_SIZE, A_CUSTOM_UNITS, A_PAGE_COPIES = 3, 37, 47, 48, 49
MAX_PAGES = 100_000

# Element sizes of the value tags (single values, arrays, xy pairs, boxes).
_SIZE = {0: 1, 1: 2, 2: 4, 3: 2, 4: 4, 5: 4}
_FMT = {0: "B", 1: "H", 2: "I", 3: "h", 4: "i", 5: "f"}
# MediaSize enumeration -> size in points (PCL XL Feature Reference, MediaSize).
_MEDIA_ENUM = {0: (612, 792), 1: (612, 1008), 2: (210 * MM, 297 * MM), 3: (522, 756),
               4: (792, 1224), 5: (297 * MM, 420 * MM), 16: (148 * MM, 210 * MM),
               17: (105 * MM, 148 * MM)}
_MEDIA_NAME = {b"LETTER": 0, b"LEGAL": 1, b"A4": 2, b"EXEC": 3, b"LEDGER": 4, b"A3": 5,
               b"A5": 16, b"A6": 17}
_UNITS = {0: 72.0, 1: 72 / 25.4 * 10, 2: 1 / 10}   # eInch, eMillimeter, eTenthsOfAMillimeter


@dataclass(frozen=True)
class PclXlResult:
    pages: int
    sizes: tuple[PageSize, ...]
    gray_only: bool


def _value(buf: bytes, pos: int, tag: int, order: str) -> tuple[object, int]:
    kind, base = tag & 0x07, tag & 0xF8
    if kind not in _SIZE:
        raise FormatError(f"unknown PCL XL data type 0x{tag:02x}", offset=pos - 1)
    size = _SIZE[kind]
    if base == 0xC0:
        count = 1
    elif base == 0xC8:    # array: a length value (ubyte or uint16) follows the tag
        if pos >= len(buf):
            raise FormatError("truncated PCL XL array", offset=pos)
        ltag = buf[pos]
        if ltag not in (0xC0, 0xC1, 0xC2):
            raise FormatError("bad PCL XL array length", offset=pos)
        n, pos = _value(buf, pos + 1, ltag, order)
        count = int(n)  # type: ignore[call-overload]
        if count > len(buf):
            raise FormatError("PCL XL array longer than the document", offset=pos)
    elif base == 0xD0:
        count = 2
    elif base == 0xE0:
        count = 4
    else:
        raise FormatError(f"unknown PCL XL data type 0x{tag:02x}", offset=pos - 1)
    end = pos + size * count
    if end > len(buf):
        raise FormatError("truncated PCL XL value", offset=pos)
    if base == 0xC8 and kind == 0:
        return bytes(buf[pos:end]), end
    values = struct.unpack_from(f"{order}{count}{_FMT[kind]}", buf, pos)
    return (values[0] if count == 1 else values), end


def _page_size(attrs: dict[int, object]) -> PageSize | None:
    media = attrs.get(A_MEDIA_SIZE)
    if isinstance(media, bytes):
        media = _MEDIA_NAME.get(media.rstrip(b"\0").upper().replace(b"PAPER", b""))
    if isinstance(media, int) and media in _MEDIA_ENUM:
        return PageSize(*(float(v) for v in _MEDIA_ENUM[media]))
    custom = attrs.get(A_CUSTOM_SIZE)
    if isinstance(custom, tuple) and len(custom) == 2:
        unit = _UNITS.get(int(attrs.get(A_CUSTOM_UNITS, 0)), 72.0)  # type: ignore[call-overload]
        return PageSize(float(custom[0]) * unit, float(custom[1]) * unit)
    return None


def walk(buf: bytes) -> PclXlResult:
    start = buf.find(b" HP-PCL XL;")
    if start < 1:
        raise FormatError("no PCL XL stream header")
    binding = buf[start - 1:start]     # ')' little-endian, '(' big-endian binary binding
    if binding not in (b")", b"("):
        raise FormatError("only binary PCL XL streams are supported", offset=start - 1)
    order = "<" if binding == b")" else ">"
    pos = buf.find(b"\n", start)
    if pos < 0:
        raise FormatError("truncated PCL XL stream header", offset=start)
    pos += 1
    sizes: list[PageSize] = []
    attrs: dict[int, object] = {}
    last: object = None
    page_size: PageSize | None = None
    in_page = False
    gray_only = True
    end = len(buf)
    while pos < end:
        tag = buf[pos]
        pos += 1
        if tag in (0x00, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20):
            continue
        if 0xC0 <= tag <= 0xEF:
            last, pos = _value(buf, pos, tag, order)
        elif tag in (0xF8, 0xF9):
            width = 1 if tag == 0xF8 else 2
            if pos + width > end:
                raise FormatError("truncated PCL XL attribute", offset=pos)
            aid = buf[pos] if width == 1 else struct.unpack_from(order + "H", buf, pos)[0]
            attrs[aid] = last
            pos += width
        elif tag in (0xFA, 0xFB):
            width = 4 if tag == 0xFA else 1
            if pos + width > end:
                raise FormatError("truncated PCL XL data length", offset=pos)
            n = struct.unpack_from(order + ("I" if width == 4 else "B"), buf, pos)[0]
            pos += width + n
            if pos > end:
                raise FormatError("PCL XL embedded data runs past the end", offset=pos - n)
        elif 0x41 <= tag <= 0xBF:
            if tag == BEGIN_PAGE:
                if in_page:
                    raise FormatError("BeginPage inside a page", offset=pos - 1)
                in_page, page_size = True, _page_size(attrs)
            elif tag == END_PAGE:
                if not in_page:
                    raise FormatError("EndPage outside a page", offset=pos - 1)
                copies = attrs.get(A_PAGE_COPIES, 1)
                n = max(1, min(int(copies), 999)) if isinstance(copies, int) else 1
                sizes.extend([page_size or PageSize(0.0, 0.0)] * n)
                in_page = False
                if len(sizes) > MAX_PAGES:
                    raise FormatError(f"more than {MAX_PAGES} pages", offset=pos)
            elif tag == SET_COLOR_SPACE and attrs.get(A_COLOR_SPACE) not in (0, 1):
                gray_only = False
            attrs = {}
        elif tag == 0x1B:     # UEL / PJL after EndSession: the PCL XL job is over
            break
        else:
            raise FormatError(f"unknown PCL XL tag 0x{tag:02x}", offset=pos - 1)
    if in_page:
        raise FormatError("the PCL XL stream ends inside a page", offset=pos)
    return PclXlResult(len(sizes), tuple(sizes), gray_only)
