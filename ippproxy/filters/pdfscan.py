"""Judge PDF pages gray or colour from their content, without rendering where that is exact.

Theory of operation
-------------------
A page is colour when something that prints on it is not neutral.  The scan
walks the page's content (content_walk.py: graphics state, optional content in
its print state, clips) and turns what it paints into marks (marks.py), whose
colours are judged exactly: vector colours by their colour space
(vector_colour.py, tint transforms by functions.py), images at their own
resolution from their samples (image_colour.py).  The page's ``Verdict`` is

* gray (``colour=False``) when no printing mark can be colour: exact;
* colour (``True``) when a colour mark of known extent is on the page and
  nothing painted later can cover it: exact;
* undecided (``None``) otherwise: a colour mark that might be covered or
  clipped (text, strokes, curves, shadings, images partly off the page), a
  colour that cannot be evaluated, a transfer function, a Type 3 font.  The
  render fallback (colour.py) decides those pages; it renders the print state.

Painting operators (§8.5.3), text showing (§9.4.3), ``sh`` (§8.7.4.2), image
and form XObjects (§8.8, §8.9, §8.10), inline images (§8.9.7), patterns
(§8.7.3) and printing annotations' normal appearances (§12.5.5; an
annotation without the Print flag or with the Hidden flag does not print,
§12.5.3) are all walked; the operator-filtered tokenizer is qpdf's, so a colour
operator inside a string is never taken for a real one.
"""

from __future__ import annotations

import pikepdf

from ippproxy.filters.content_ops import guard_size, walk
from ippproxy.filters.content_walk import (
    DEVICE,
    QUICK_OPS,
    DocumentContext,
    GState,
    Undecided,
    Walker,
    ext_gstate,
    nums,
    paint_of,
)
from ippproxy.filters.errors import LimitExceeded
from ippproxy.filters.functions import Undecidable
from ippproxy.filters.marks import Verdict, verdict
from ippproxy.filters.optional_content import NONE, print_state
from ippproxy.filters.vector_colour import DEFAULT

_ANNOT_HIDDEN, _ANNOT_PRINT = 2, 4            # annotation flags, ISO 32000-1 §12.5.3


def _inherited(obj: pikepdf.Object, key: str) -> pikepdf.Object | None:
    for _ in range(64):
        if key in obj:
            return obj[key]
        parent = obj.get("/Parent")
        if parent is None:
            return None
        obj = parent
    return None


def _annotations(w: Walker, page: pikepdf.Object) -> None:
    for annot in page.get("/Annots", []):
        if not isinstance(annot, pikepdf.Dictionary):
            continue
        flags = int(annot.get("/F", 0))
        if flags & _ANNOT_HIDDEN or not flags & _ANNOT_PRINT:
            continue                                  # not printed (§12.5.3)
        if not w.ctx.state.visible(annot.get("/OC")):
            continue
        ap = annot.get("/AP")
        normal = ap.get("/N") if isinstance(ap, pikepdf.Dictionary) else None
        if isinstance(normal, pikepdf.Dictionary) and not isinstance(normal, pikepdf.Stream):
            normal = normal.get(str(annot.get("/AS", "/Off")))
        if not isinstance(normal, pikepdf.Stream):
            if annot.get("/Subtype") not in ("/Link", "/Popup"):
                # A reader may draw one from /C and /IC (§12.5.5): the render decides.
                w.add(GState(), None, None, exact=False, what="annotation without appearance")
            continue
        sub = Walker(w.ctx, w.region, geometry=False)
        sub.recording = True
        walk(sub, normal, normal.get("/Resources"), GState(), 1, set())
        w.marks += sub.marks
        w.lossy = w.lossy or sub.lossy
        w.recording = w.recording or bool(sub.marks)


def plainly_gray(owner: pikepdf.Page, resources: pikepdf.Object | None,
                 ctx: DocumentContext) -> bool:
    """True when every colour the content sets is neutral and it paints no XObject,
    shading, inline image or Type 3 text and sets no graphics state: gray without the
    walk (one pass of qpdf's tokenizer over the colour operators only, most office pages)."""
    fill, stroke = DEFAULT, DEFAULT
    for ins in pikepdf.parse_content_stream(owner, QUICK_OPS):
        if isinstance(ins, pikepdf.ContentStreamInlineImage):
            return False
        o = str(ins.operator)
        if o in ("sh", "Do", "BI", "ID", "EI"):
            return False
        if o == "gs":        # alpha, masks and blend modes keep neutral neutral (§11.3.5)
            try:
                ext_gstate(GState(), list(ins.operands), resources)
            except Undecided:
                return False     # a transfer function
            continue
        if o == "Tf":
            fonts = resources.get("/Font") if resources is not None else None
            font = fonts.get(str(ins.operands[0])) if fonts is not None and ins.operands \
                else None
            if font is not None and font.get("/Subtype") == "/Type3":
                return False
            continue
        low = o.lower()
        if low == "cs":
            try:
                space = ctx.space(ins.operands[0], resources)
            except (Undecidable, IndexError):
                return False
            if space.family == "pattern":
                return False
            fill, stroke = (fill, space) if o == "CS" else (space, stroke)
            colour = paint_of(space, space.initial()).colour
        else:
            space = DEVICE.get(low) or (stroke if o.isupper() else fill)
            colour = paint_of(space, nums(list(ins.operands))).colour
            if low in DEVICE:
                fill, stroke = (fill, space) if o.isupper() else (space, stroke)
        if colour is not False:
            return False
    return True


def document_context(pdf: pikepdf.Pdf) -> DocumentContext:
    try:
        state = print_state(pdf)
    except (pikepdf.PdfError, AttributeError, TypeError, ValueError):
        state = NONE
    return DocumentContext(pdf, state)


def page_region(obj: pikepdf.Object) -> tuple[float, float, float, float]:
    box = _inherited(obj, "/CropBox") or _inherited(obj, "/MediaBox")
    n = nums(list(box)) if box is not None else None
    if n is None or len(n) != 4:
        return (-1e30, -1e30, 1e30, 1e30)
    return (min(n[0], n[2]), min(n[1], n[3]), max(n[0], n[2]), max(n[1], n[3]))


def scan_page(page: pikepdf.Page, ctx: DocumentContext) -> Verdict:
    """The page's verdict: gray, colour, or undecided (render it)."""
    obj = page.obj
    w = Walker(ctx, page_region(obj))
    try:
        if obj.get("/Contents") is not None:
            resources = _inherited(obj, "/Resources")
            guard_size(obj.Contents)
            if "/Annots" not in obj and plainly_gray(page, resources, ctx):
                return Verdict(False)
            walk(w, page, resources, GState(), 0, set(), guarded=True)
        if "/Annots" in obj:
            _annotations(w, obj)
        return verdict(w.marks, w.lossy)
    except Undecided as u:
        return Verdict(None, str(u), w.lossy)
    except pikepdf.DataDecodingError as e:
        if "bad_alloc" in str(e):   # qpdf's report of a failed allocation: a bomb
            raise LimitExceeded("a content stream decompresses to more memory than "
                                "allowed (decompression bomb)") from None
        return Verdict(None, "undecodable content", w.lossy)
    except (pikepdf.PdfError, AttributeError, KeyError, TypeError, ValueError,
            IndexError, RecursionError) as e:
        return Verdict(None, f"unreadable content ({type(e).__name__})", w.lossy)


def scan_document(pdf: pikepdf.Pdf) -> list[Verdict]:
    """The verdict of every page, in order (one context: caches shared by the pages)."""
    ctx = document_context(pdf)
    return [scan_page(page, ctx) for page in pdf.pages]
