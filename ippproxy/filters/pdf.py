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


def open_pdf(path: Path) -> pikepdf.Pdf:
    try:
        return pikepdf.open(path)
    except pikepdf.PasswordError:
        raise PasswordRequired("the PDF is encrypted and needs a password to open") from None
    except (pikepdf.PdfError, ValueError, RuntimeError) as e:
        raise FormatError(f"not a readable PDF: {str(e)[:160]}") from None


def _box(page: pikepdf.Page) -> PageSize:
    try:
        box = page.cropbox
        x0, y0, x1, y1 = (float(v) for v in box)
        rotate = int(page.obj.get("/Rotate", 0)) % 360
    except (ValueError, TypeError, pikepdf.PdfError):
        raise FormatError("a page has no valid MediaBox") from None
    w, h = abs(x1 - x0), abs(y1 - y0)
    return PageSize(h, w) if rotate in (90, 270) else PageSize(w, h)


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
    sizes = tuple(_box(p) for p in pages)
    return PdfCount(n, sizes, tuple(notes))
