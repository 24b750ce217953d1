"""``analyse(path, format)``: what one document prints (runs inside a pool worker).

Dispatches on the detected MIME type (detect.py) to the per-format counter
and colour method, and returns a ``DocumentAnalysis``.  ``pages is None``
(PCL 5) and ``colour_pages is None`` (colour PCL XL) are explicit unknowns.
This function is synchronous and may take seconds: call it through
``pool.AnalysisPool.analyse``, never on the event loop.

``analyse_bytes(data, format, scratch=dir)`` is the same for a document held in
memory (a small one, kept in memory until it is committed with its job: jobs/spool.py):
qpdf opens a PDF from the bytes, so no file is written for it unless Ghostscript must
render a page (gs reads files); then, and for the other formats, whose readers take
paths, the bytes go to a private file in ``scratch`` that is removed afterwards.  In a
pool worker such a PDF render goes to the worker's resident Ghostscript (``RESIDENT``,
resident.py), which saves a gs start per document.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from ippproxy.filters import detect, image, pclxl, pdf, pdfscan, postscript, raster, text
from ippproxy.filters.errors import FormatError, UnsupportedFormat
from ippproxy.filters.ghostscript import render_pages
from ippproxy.filters.model import DocumentAnalysis, PageSize
from ippproxy.filters.render_fallback import PRINTED, Pixels, undecided_colour_pages
from ippproxy.filters.resident import ResidentGs, Unavailable
from ippproxy.filters.stopwatch import Stopwatch

MAX_TEXT_BYTES = 64 << 20
# The worker's resident Ghostscript (worker.py sets it): PDF renders of documents
# analysed from memory go to it (resident.py).
RESIDENT: ResidentGs | None = None
MAX_PCLXL_BYTES = 1 << 30


def analyse(path: Path, fmt: str, *, colour: bool = True) -> DocumentAnalysis:
    clock = Stopwatch()
    result = _dispatch(Path(path), detect.normalise(fmt), colour, clock)
    return replace(result, seconds=clock.elapsed, stages=tuple(clock.laps))


def analyse_bytes(data: bytes, fmt: str, *, colour: bool = True,
                  scratch: Path | None = None) -> DocumentAnalysis:
    """``analyse`` of a document in memory; a file, when one is needed, goes in ``scratch``
    (default: the system's temporary directory)."""
    clock = Stopwatch()
    fmt = detect.normalise(fmt)
    if fmt in (detect.PDF, detect.PCLM):
        result = _pdf(data, fmt, colour, clock, scratch)
    else:
        with _as_file(data, scratch, clock) as path:
            result = _dispatch(path, fmt, colour, clock)
    return replace(result, seconds=clock.elapsed, stages=tuple(clock.laps))


@contextlib.contextmanager
def _as_file(source: Path | bytes, scratch: Path | None, clock: Stopwatch) -> Iterator[Path]:
    """``source`` as a path: itself, or its bytes in a private temporary file (mode 0600)."""
    if isinstance(source, Path):
        yield source
        return
    fd, name = tempfile.mkstemp(prefix="analysis-", dir=scratch)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(source)
        clock.lap("write")
        yield Path(name)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)


def _dispatch(path: Path, fmt: str, colour: bool, clock: Stopwatch) -> DocumentAnalysis:
    if fmt in (detect.PDF, detect.PCLM):
        return _pdf(path, fmt, colour, clock, None)
    if fmt == detect.POSTSCRIPT:
        ps = postscript.analyse(path, colour=colour)
        return DocumentAnalysis(fmt, ps.pages, ps.sizes, ps.colour_pages,
                                ("gs-render",), ps.notes)
    if fmt in (detect.PWG_RASTER, detect.URF):
        pages = raster.walk_file(path, fmt, colour=colour)
        if not pages:
            raise FormatError("the raster stream has no page")
        colours = [p.colour for p in pages]
        known = colour and all(c is not None for c in colours)
        return DocumentAnalysis(fmt, len(pages), tuple(p.size for p in pages),
                                tuple(i + 1 for i, c in enumerate(colours) if c) if known
                                else None, ("raster-walk",))
    if fmt in (detect.JPEG, detect.PNG):
        verdict = image.is_colour(path, fmt)
        return DocumentAnalysis(fmt, 1, (), ((1,) if verdict else ()) if colour else None,
                                ("pillow",))
    if fmt == detect.TEXT:
        if path.stat().st_size > MAX_TEXT_BYTES:
            raise FormatError("the text document is too large")
        body = path.read_bytes().decode("utf-8", "replace")
        layout = text.TextLayout()
        n = text.count(body, layout)
        return DocumentAnalysis(fmt, n, (layout.size,) * n, (), ("text-layout",))
    if fmt == detect.PCLXL:
        if path.stat().st_size > MAX_PCLXL_BYTES:
            raise FormatError("the PCL XL document is too large")
        r = pclxl.walk(path.read_bytes())
        sizes = r.sizes if all(s.width for s in r.sizes) else ()
        return DocumentAnalysis(fmt, r.pages, sizes,
                                () if r.gray_only else None, ("pclxl-walk",))
    if fmt == detect.PCL:
        return DocumentAnalysis(fmt, None, (), None, (),
                                ("PCL 5 pages cannot be counted exactly",))
    raise UnsupportedFormat(f"document-format {fmt!r} is not supported")


def _pdf(source: Path | bytes, fmt: str, colour: bool, clock: Stopwatch,
         scratch: Path | None) -> DocumentAnalysis:
    clock.skip()
    with pdf.open_pdf(source) as doc:
        clock.lap("open")
        counted = pdf.count(doc)
        clock.lap("count")
        if not colour:
            return DocumentAnalysis(fmt, counted.pages, counted.sizes, None, ("pikepdf",),
                                    counted.notes)
        verdicts = pdfscan.scan_document(doc)
        clock.lap("scan")
    methods: tuple[str, ...] = ("pikepdf", "content-scan")
    colour_pages = [i + 1 for i, v in enumerate(verdicts) if v.colour]
    to_render = [i + 1 for i, v in enumerate(verdicts) if v.colour is None]
    if to_render:
        with _as_file(source, scratch, clock) as path:
            rendered, found = undecided_colour_pages(path, verdicts, scratch, render=_render)
            colour_pages = sorted(colour_pages + found)
        clock.lap("render")
        if rendered != len(to_render):
            raise FormatError(f"Ghostscript rendered {rendered} of {len(to_render)} pages")
        methods += (f"gs-render:{rendered}",)
    return DocumentAnalysis(fmt, counted.pages, counted.sizes, tuple(colour_pages), methods,
                            counted.notes)


def _render(path: Path, dpi: int, pages: list[int]) -> Iterator[Pixels]:
    """The ``pages`` of ``path`` at ``dpi``, in the print state's options (render_fallback):
    by the worker's resident gs when it can read ``path`` (resident.py), else (or when it
    fails, or renders fewer pages) by a fresh one."""
    if RESIDENT is not None and RESIDENT.can_read(path):
        try:
            out = list(RESIDENT.render(path, pages, path.parent, dpi=dpi))
            if len(out) == len(pages):
                yield from out
                return
        except Unavailable:
            pass
    yield from render_pages(path, dpi=dpi, page_list=pages, prologue=PRINTED)


def page_sizes_or_default(analysis: DocumentAnalysis, default: PageSize) -> tuple[PageSize, ...]:
    """Sizes for accounting: the analysed ones, or ``default`` (the job's media) per page."""
    if analysis.pages is None:
        return ()
    if len(analysis.page_sizes) == analysis.pages:
        return analysis.page_sizes
    return (default,) * analysis.pages
