"""PDF (and PCLm) page count and page sizes with pikepdf (qpdf).

qpdf repairs a broken xref by reconstruction, reads object streams and
incremental updates, and walks the real page tree (``/Kids``) rather than
trusting ``/Count``.  A ``/Count`` that disagrees with the tree (a hostile
"two billion pages" over three leaves) is noted and the leaves are counted;
only a real tree of more than ``MAX_PAGES`` leaves is refused, found by a walk
that stops at the limit before qpdf builds its page list.  Encrypted PDFs open when
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


def _leaves(root: pikepdf.Object, limit: int) -> int:
    """Pages (leaves) of the real tree under ``root``, walked without trusting ``/Count``;
    FormatError as soon as there are more than ``limit`` (a loop in /Kids is walked once)."""
    count, stack, nodes = 0, [root], set()
    while stack:
        node = stack.pop()
        kids = node.get("/Kids") if isinstance(node, pikepdf.Dictionary) else None
        if not isinstance(kids, pikepdf.Array):
            count += 1
            if count > limit:
                raise FormatError(f"the PDF has more than {limit} pages, the limit")
            continue
        if node.objgen in nodes:
            continue                               # a loop: qpdf breaks it too
        nodes.add(node.objgen)
        if len(nodes) > limit:
            raise FormatError(f"the PDF page tree has more than {limit} nodes")
        stack.extend(kids)
    return count


def count(pdf: pikepdf.Pdf, *, max_pages: int = MAX_PAGES) -> PdfCount:
    """Pages and sizes; a ``/Count`` that lies is noted, not trusted (ISO 32000-1 §7.7.3.2:
    a reader prints the leaves of the tree): only a real tree over ``max_pages`` is refused."""
    notes: list[str] = []
    try:
        root = pdf.Root.Pages
        claimed = int(root.get("/Count", 0))
        _leaves(root, max_pages)
    except (AttributeError, KeyError, TypeError, ValueError, pikepdf.PdfError):
        raise FormatError("the PDF has no page tree") from None
    except RecursionError:
        raise FormatError("the PDF page tree is broken") from None
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
