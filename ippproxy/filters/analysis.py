"""``analyse(path, format)``: what one document prints (runs inside a pool worker).

Dispatches on the detected MIME type (detect.py) to the per-format counter
and colour method, and returns a ``DocumentAnalysis``.  ``pages is None``
(PCL 5) and ``colour_pages is None`` (colour PCL XL) are explicit unknowns.
This function is synchronous and may take seconds: call it through
``pool.AnalysisPool.analyse``, never on the event loop.
"""

from __future__ import annotations

import time
from pathlib import Path

from ippproxy.filters import detect, image, pclxl, pdf, pdfscan, postscript, raster, text
from ippproxy.filters.colour import rendered_colour_pages
from ippproxy.filters.errors import FormatError, UnsupportedFormat
from ippproxy.filters.model import DocumentAnalysis, PageSize

MAX_TEXT_BYTES = 64 << 20
MAX_PCLXL_BYTES = 1 << 30


def analyse(path: Path, fmt: str, *, colour: bool = True) -> DocumentAnalysis:
    start = time.perf_counter()
    path = Path(path)
    result = _dispatch(path, detect.normalise(fmt), colour)
    return DocumentAnalysis(result.format, result.pages, result.page_sizes, result.colour_pages,
                            result.methods, result.notes, time.perf_counter() - start)


def _dispatch(path: Path, fmt: str, colour: bool) -> DocumentAnalysis:
    if fmt in (detect.PDF, detect.PCLM):
        return _pdf(path, fmt, colour)
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


def _pdf(path: Path, fmt: str, colour: bool) -> DocumentAnalysis:
    with pdf.open_pdf(path) as doc:
        counted = pdf.count(doc)
        if not colour:
            return DocumentAnalysis(fmt, counted.pages, counted.sizes, None, ("pikepdf",),
                                    counted.notes)
        to_render = [i + 1 for i, page in enumerate(doc.pages)
                     if pdfscan.page_needs_render(page) is not None]
    methods: tuple[str, ...] = ("pikepdf", "content-scan")
    colour_pages: list[int] = []
    if to_render:
        rendered, colour_pages = rendered_colour_pages(path, to_render)
        if rendered != len(to_render):
            raise FormatError(f"Ghostscript rendered {rendered} of {len(to_render)} pages")
        methods += (f"gs-render:{rendered}",)
    return DocumentAnalysis(fmt, counted.pages, counted.sizes, tuple(colour_pages), methods,
                            counted.notes)


def page_sizes_or_default(analysis: DocumentAnalysis, default: PageSize) -> tuple[PageSize, ...]:
    """Sizes for accounting: the analysed ones, or ``default`` (the job's media) per page."""
    if analysis.pages is None:
        return ()
    if len(analysis.page_sizes) == analysis.pages:
        return analysis.page_sizes
    return (default,) * analysis.pages
