"""Render the pages the content scan left undecided, in their print state.

Theory of operation
-------------------
pdfscan.py decides most pages exactly; a page it cannot decide (a colour mark
that may be covered or clipped, a colour it cannot evaluate) is rendered by
Ghostscript (colour.py) and judged by its pixels.  The render must show what
the printer prints:

* ``-dPrinted`` makes Ghostscript use the print settings of annotations
  (the Print and Hidden flags, ISO 32000-1 §12.5.3);
* optional content: the document's default configuration is rewritten to its
  print state (optional_content.print_state_pdf) in a private copy, so a
  screen-only layer is not rendered and a print-only one is, whatever the
  renderer's own reading of ``/AS`` and ``/Usage`` is;
* the chroma tolerance is per page: 0 (exact) when the page holds no lossy
  image data, since vector colours and lossless samples render exactly
  neutral when they are neutral (``-dUseFastColor``); ``LOSSY_TOLERANCE`` when
  the page holds a JPEG or JPEG 2000 image, whose rounding noise would
  otherwise make a gray photo colour;
* the resolution is per page: ``RENDER_DPI``, or twice the finest own
  resolution of an image on the page that may be colour (up to
  ``MAX_RENDER_DPI``), so that every image pixel owns device pixels and a
  one-pixel detail is not sampled away.  Known limit: a colour detail of a
  single pixel in an image finer than ``MAX_RENDER_DPI / 2`` that the scan
  could not place for certain (something painted after it may cover it) can
  still fall between the samples.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from ippproxy.filters import ghostscript
from ippproxy.filters.colour import RENDER_DPI, pixels_are_colour
from ippproxy.filters.image_colour import LOSSY_TOLERANCE
from ippproxy.filters.marks import Verdict
from ippproxy.filters.optional_content import print_state_copy

PRINTED = ("-dPrinted",)
MAX_RENDER_DPI = 300
# One rendered page: (width, height, 8-bit RGB samples).
Pixels = tuple[int, int, bytes]
# Renders (file, dpi, page numbers) to one Pixels per page, in the print state's options
# (``PRINTED``): a fresh gs (``fresh``) or the worker's resident one (analysis.py).
Renderer = Callable[[Path, int, list[int]], Iterable[Pixels]]


def fresh(path: Path, dpi: int, pages: list[int], timeout: float = 120.0) -> Iterable[Pixels]:
    return ghostscript.render_pages(path, dpi=dpi, page_list=pages, timeout=timeout,
                                    prologue=PRINTED)


def page_dpi(v: Verdict, base: int = RENDER_DPI) -> int:
    return max(base, min(MAX_RENDER_DPI, math.ceil(2 * v.dpi)))


def undecided_colour_pages(path: Path, verdicts: Sequence[Verdict],
                           scratch: Path | None = None, *, dpi: int = RENDER_DPI,
                           render: Renderer = fresh) -> tuple[int, list[int]]:
    """Render the undecided pages of ``verdicts``; (pages rendered, colour page numbers)."""
    pages = [i + 1 for i, v in enumerate(verdicts) if v.colour is None]
    if not pages:
        return 0, []
    by_dpi: dict[int, list[int]] = {}
    for n in pages:
        by_dpi.setdefault(page_dpi(verdicts[n - 1], dpi), []).append(n)
    colour: list[int] = []
    rendered = 0
    with print_state_copy(path, scratch) as source:
        for res, group in sorted(by_dpi.items()):
            for (w, h, px), n in zip(render(source, res, group), group):
                rendered += 1
                tol = LOSSY_TOLERANCE if verdicts[n - 1].lossy else 0
                if pixels_are_colour(w, h, px, tol):
                    colour.append(n)
    return rendered, sorted(colour)
