"""Colour verdicts on rendered pages.

Theory of operation
-------------------
A page is colour when something that actually prints on it is not neutral.
We let Ghostscript answer "what prints": it renders the page at a low
resolution (``RENDER_DPI``) to RGB with fast colour conversion (gray, R=G=B
and K-only CMYK come out exactly neutral; see ghostscript.render_pages) and
anti-aliasing off, so that a coloured mark smaller than a pixel still sets one
pixel at its full colour.  What is clipped away (a mark off the page) or
painted over (covered by white) is not in the render, so it is not colour.

The verdict on the pixels: exactly neutral (the R, G and B planes are equal,
one C-speed comparison) is gray; otherwise a pixel is colour when
max(R,G,B) - min(R,G,B) > ``CHROMA_THRESHOLD`` (out of 255), which tolerates
ICC rounding and JPEG noise in gray images stored as RGB, while any visible
tint (a pale 10 % yellow has a chroma of 25) is colour.

Known limit: an image is sampled, not averaged, at RENDER_DPI, so a coloured
detail narrower than 1/RENDER_DPI inch inside a large image can be missed.
That limit is PostScript's now: PDF pages are judged from their content and
their images' own samples (pdfscan.py), and a PDF page that still needs a
render is rendered in its print state at a resolution fit for its images and
with a tolerance fit for its data (render_fallback.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from PIL import Image, ImageChops

from ippproxy.filters import ghostscript
from ippproxy.filters.raster import CHROMA_THRESHOLD

RENDER_DPI = 36


def pixels_are_colour(width: int, height: int, rgb: bytes,
                      threshold: int = CHROMA_THRESHOLD) -> bool:
    """True when some pixel of an 8-bit RGB image has a chroma above ``threshold``."""
    if rgb[0::3] == rgb[1::3] == rgb[2::3]:
        return False
    r, g, b = Image.frombytes("RGB", (width, height), rgb).split()
    chroma = ImageChops.lighter(ImageChops.lighter(ImageChops.difference(r, g),
                                                   ImageChops.difference(g, b)),
                                ImageChops.difference(r, b))
    return chroma.point(lambda v: 255 if v > threshold else 0).getbbox() is not None


def rendered_colour_pages(path: Path, pages: Sequence[int] | None = None, *,
                          dpi: int = RENDER_DPI, timeout: float = 120.0,
                          prologue: Sequence[str] = ()) -> tuple[int, list[int]]:
    """Render ``pages`` (1-based; None: all) and return (pages rendered, colour page numbers)."""
    numbers: Iterable[int] = pages if pages is not None else _count_from(1)
    colour = []
    rendered = 0
    it = iter(numbers)
    for w, h, px in ghostscript.render_pages(path, dpi=dpi, page_list=pages, timeout=timeout,
                                             prologue=prologue):
        n = next(it)
        rendered += 1
        if pixels_are_colour(w, h, px):
            colour.append(n)
    return rendered, colour


def _count_from(n: int) -> Iterable[int]:
    while True:
        yield n
        n += 1
