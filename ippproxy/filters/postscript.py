"""PostScript page count, page sizes, copies and colour through Ghostscript.

Theory of operation
-------------------
Only the interpreter knows how many pages a PostScript program prints (DSC
``%%Pages`` comments are claims: we note when they disagree).  We run the job
once, under ``-dSAFER``, rendering to RGB through a pipe (colour.py), with a
prologue that installs an ``EndPage`` procedure (PLRM3 §6.2.6) writing one
line per printed page to stderr: the page size in points and the number of
copies the program asked for (``/NumCopies``, else the Level 1 ``#copies``).
A page asked for N times prints N times, so it counts N times (the render
has N pages too; if the two disagree the render wins and sizes come from it).

The render is at ``colour.RENDER_DPI`` when colour is wanted and at
``COUNT_DPI`` otherwise (interpretation dominates; pixels are almost free).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ippproxy.filters import ghostscript
from ippproxy.filters.colour import RENDER_DPI, pixels_are_colour
from ippproxy.filters.errors import FormatError
from ippproxy.filters.model import PageSize

COUNT_DPI = 4
MAX_PAGES = 100_000

PROLOGUE = (
    "/ippproxy#f (%stderr) (w) file def /ippproxy#s 40 string def "
    "/ippproxy#w { ippproxy#s cvs ippproxy#f exch writestring ippproxy#f ( ) writestring } bind def "
    "<< /EndPage { exch pop dup 2 ne { "
    "ippproxy#f (IPPPROXY-PAGE ) writestring "
    "currentpagedevice /PageSize get dup 0 get ippproxy#w 1 get ippproxy#w "
    "userdict /#copies known { userdict /#copies get } { 1 } ifelse ippproxy#w "
    "currentpagedevice /NumCopies get dup null eq { pop -1 } if ippproxy#w "
    "ippproxy#f (\\n) writestring } if 2 ne } bind >> setpagedevice"
)
_PAGE_LINE = re.compile(rb"IPPPROXY-PAGE (\S+) (\S+) (\S+) (\S+)")
_DSC_PAGES = re.compile(rb"^%%Pages:\s*(\d+)", re.MULTILINE)


@dataclass(frozen=True)
class PsResult:
    pages: int                      # printed pages, embedded copies included
    sizes: tuple[PageSize, ...]
    colour_pages: tuple[int, ...] | None
    notes: tuple[str, ...]


def _dsc_pages(path: Path) -> int | None:
    with open(path, "rb") as f:
        head = f.read(64 * 1024)
        f.seek(max(0, f.seek(0, 2) - 64 * 1024))
        tail = f.read()
    found = _DSC_PAGES.findall(tail) or _DSC_PAGES.findall(head)
    return int(found[-1]) if found else None


def analyse(path: Path, *, colour: bool = True, timeout: float = 120.0) -> PsResult:
    dpi = RENDER_DPI if colour else COUNT_DPI
    rendered: list[tuple[int, int, bool]] = []
    lines: list[bytes] = []
    renders = ghostscript.render_pages(path, dpi=dpi, timeout=timeout,
                                       prologue=("-c", PROLOGUE), stderr_sink=lines)
    for w, h, px in renders:
        rendered.append((w, h, colour and pixels_are_colour(w, h, px)))
        if len(rendered) > MAX_PAGES:
            raise FormatError(f"the PostScript job prints more than {MAX_PAGES} pages")
    if not rendered:
        raise FormatError("the PostScript job prints no page")
    notes = []
    sizes = _sizes(b"".join(lines))
    if len(sizes) != len(rendered):
        notes.append("page sizes measured from the render (the job replaced EndPage)")
        sizes = [PageSize(round(w * 72 / dpi), round(h * 72 / dpi)) for w, h, _ in rendered]
    colour_pages = tuple(i + 1 for i, (_, _, c) in enumerate(rendered) if c)
    notes = []
    dsc = _dsc_pages(path)
    if dsc is not None and dsc != len(rendered):
        notes.append(f"DSC %%Pages says {dsc}, the interpreter printed {len(rendered)}")
    return PsResult(len(rendered), tuple(sizes), colour_pages if colour else None, tuple(notes))


def _sizes(log: bytes) -> list[PageSize]:
    """One size per printed sheet side: each EndPage line repeated by its copy count."""
    sizes: list[PageSize] = []
    for w, h, level1, level2 in _PAGE_LINE.findall(log):
        try:
            num_copies = int(float(level2))
            copies = num_copies if num_copies >= 0 else int(float(level1))
            size = PageSize(float(w), float(h))
        except ValueError:
            return []
        sizes.extend([size] * max(copies, 0))
        if len(sizes) > MAX_PAGES:
            return []
    return sizes
