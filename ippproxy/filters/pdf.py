"""PDF (and PCLm) page count and page sizes with pikepdf (qpdf).

qpdf repairs a broken xref by reconstruction, reads object streams and
incremental updates, and walks the real page tree (``/Kids``) rather than
trusting ``/Count``.  We refuse up front a tree whose root claims more than
``MAX_PAGES`` pages (a hostile "million pages" PDF costs nothing to refuse),
and note a ``/Count`` that disagrees with the tree.  Encrypted PDFs open when
the user password is empty; otherwise ``PasswordRequired``.

The printed size of a page is its CropBox (default: MediaBox, both
inheritable), with width and height swapped for ``/Rotate`` 90 or 270.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import pikepdf

from ippproxy.filters.errors import FormatError, PasswordRequired
from ippproxy.filters.model import PageSize

MAX_PAGES = 100_000


@dataclass(frozen=True)
class PdfCount:
    pages: int
    sizes: tuple[PageSize, ...]
    notes: tuple[str, ...]


def open_pdf(source: Path | bytes) -> pikepdf.Pdf:
    """A PDF from a file or from its bytes (qpdf reads both alike)."""
    try:
        return pikepdf.open(source if isinstance(source, Path) else io.BytesIO(source))
    except pikepdf.PasswordError:
        raise PasswordRequired("the PDF is encrypted and needs a password to open") from None
    except (pikepdf.PdfError, ValueError, RuntimeError) as e:
        raise FormatError(f"not a readable PDF: {str(e)[:160]}") from None


def _inherited(node: pikepdf.Object | None,
               cache: dict[tuple[int, int], tuple[pikepdf.Object | None, int]]
               ) -> tuple[pikepdf.Object | None, int]:
    """(box, rotate) a page inherits from its /Pages ancestors (ISO 32000-1 §7.7.3.4)."""
    if node is None:
        return None, 0
    key = node.objgen
    if key in cache:
        return cache[key]
    cache[key] = (None, 0)            # a loop in /Parent ends here
    up_box, up_rot = _inherited(node.get("/Parent"), cache) if len(cache) < 10_000 else (None, 0)
    box = node.get("/CropBox")
    if box is None:
        box = node.get("/MediaBox")
    rot = node.get("/Rotate")
    value = (box if box is not None else up_box, int(rot) if rot is not None else up_rot)
    cache[key] = value
    return value


def _sizes(pages: pikepdf.PageList) -> tuple[PageSize, ...]:
    """Printed size of each page; boxes are parsed once per distinct value (speed)."""
    parsed: dict[bytes, tuple[float, float]] = {}
    parents: dict[tuple[int, int], tuple[pikepdf.Object | None, int]] = {}
    out = []
    for page in pages:
        o = page.obj
        box = o.get("/CropBox")
        if box is None:
            box = o.get("/MediaBox")
        rot = o.get("/Rotate")
        if box is None or rot is None:
            up_box, up_rot = _inherited(o.get("/Parent"), parents)
            box = box if box is not None else up_box
            rotate = int(rot) if rot is not None else up_rot
        else:
            rotate = int(rot)
        if box is None:
            raise FormatError("a page has no MediaBox")
        key = box.unparse()
        wh = parsed.get(key)
        if wh is None:
            try:
                x0, y0, x1, y1 = (float(v) for v in box)
            except (ValueError, TypeError):
                raise FormatError("a page has an invalid MediaBox") from None
            wh = parsed[key] = (abs(x1 - x0), abs(y1 - y0))
        w, h = wh
        out.append(PageSize(h, w) if rotate % 180 == 90 else PageSize(w, h))
    return tuple(out)


def count(pdf: pikepdf.Pdf, *, max_pages: int = MAX_PAGES) -> PdfCount:
    notes: list[str] = []
    try:
        root = pdf.Root.Pages
        claimed = int(root.get("/Count", 0))
    except (AttributeError, KeyError, TypeError, ValueError, pikepdf.PdfError):
        raise FormatError("the PDF has no page tree") from None
    if claimed > max_pages:
        raise FormatError(f"the PDF claims {claimed} pages, more than the limit of {max_pages}")
    try:
        pages = pdf.pages
        n = len(pages)
    except (pikepdf.PdfError, RuntimeError, RecursionError) as e:
        raise FormatError(f"the PDF page tree is broken: {str(e)[:160]}") from None
    if n > max_pages:
        raise FormatError(f"the PDF has {n} pages, more than the limit of {max_pages}")
    if n == 0:
        raise FormatError("the PDF has no pages")
    if claimed != n:
        notes.append(f"page tree /Count says {claimed}, the tree holds {n} pages")
    sizes = _sizes(pages)
    return PdfCount(n, sizes, tuple(notes))
