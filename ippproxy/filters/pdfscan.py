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

from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal

import pikepdf

from ippproxy.filters import image_colour, shading
from ippproxy.filters.content_walk import (DEVICE, OPS, DocumentContext, GState, Paint,
                                           Undecided, Walker, image_dpi, mul, paint_of,
                                           transform_box)
from ippproxy.filters.errors import LimitExceeded
from ippproxy.filters.functions import Undecidable
from ippproxy.filters.marks import Verdict, verdict
from ippproxy.filters.optional_content import NONE, PrintState, print_state
from ippproxy.filters.vector_colour import Space

UNKNOWN = Space("unknown", 0)

_MAX_DEPTH = 8
_FILL_MODES, _STROKE_MODES = {0, 2, 4, 6}, {1, 2, 5, 6}
_ANNOT_HIDDEN, _ANNOT_PRINT = 2, 4            # annotation flags, ISO 32000-1 §12.5.3


def _nums(operands: Sequence[object]) -> list[float] | None:
    out = []
    for o in operands:
        if isinstance(o, bool) or not isinstance(o, (int, float, Decimal)):
            return None
        out.append(float(o))
    return out


def _inherited(obj: pikepdf.Object, key: str) -> pikepdf.Object | None:
    for _ in range(64):
        if key in obj:
            return obj[key]
        parent = obj.get("/Parent")
        if parent is None:
            return None
        obj = parent
    return None


def _set_colour(w: Walker, gs: GState, o: str, operands: list[object],
                resources: pikepdf.Object | None) -> GState:
    stroke = o.isupper()
    cur = gs.stroke if stroke else gs.fill
    low = o.lower()
    if low in DEVICE:
        p = paint_of(DEVICE[low], _nums(operands))
    elif low == "cs":
        if not operands:
            raise Undecided("bad cs")
        try:
            space = w.ctx.space(operands[0], resources)
        except Undecidable:
            p = Paint(UNKNOWN, None)
        else:
            p = paint_of(space, space.initial()) if space.family != "pattern" \
                else Paint(space, False)
    elif cur.space.family == "pattern":
        p = Paint(cur.space, _pattern(w, cur, operands, resources))
    else:
        p = paint_of(cur.space, _nums(operands))
    return replace(gs, stroke=p) if stroke else replace(gs, fill=p)


def _pattern(w: Walker, cur: Paint, operands: list[object],
             resources: pikepdf.Object | None) -> bool | None:
    """Colour of a pattern fill: its cells' content or its shading (§8.7.3)."""
    name = operands[-1] if operands else None
    pats = resources.get("/Pattern") if resources is not None else None
    pat = pats.get(str(name)) if pats is not None and isinstance(name, pikepdf.Name) else None
    if pat is None:
        return False                    # nothing is painted with a missing pattern
    if int(pat.get("/PatternType", 1)) == 2:
        return shading.colour(pat.get("/Shading"), resources, w.ctx.spaces)
    if int(pat.get("/PaintType", 1)) == 2:             # uncoloured: the operands' colour
        base = cur.space.base
        if base is None:
            return None
        return paint_of(base, _nums(operands[:-1])).colour
    key = pat.objgen
    if key in w.ctx.patterns:
        return w.ctx.patterns[key]
    cell = Walker(w.ctx, (-1e30, -1e30, 1e30, 1e30), geometry=False)
    cell.recording = True
    try:
        _walk(cell, pat, pat.get("/Resources", resources), GState(), 1, set())
        v = verdict(cell.marks).colour
    except Undecided:
        v = None
    w.ctx.patterns[key] = v
    return v


def _walk(w: Walker, owner: pikepdf.Object | pikepdf.Page, resources: pikepdf.Object | None,
          gs: GState, depth: int, seen: set[tuple[int, int]]) -> None:
    stack: list[GState] = []
    hidden: list[bool] = []
    ctx = w.ctx
    type3 = False
    for ins in pikepdf.parse_content_stream(owner, OPS):
        if isinstance(ins, pikepdf.ContentStreamInlineImage):
            if not any(hidden):
                _inline(w, gs, ins.iimage, resources)
            continue
        operands, o = list(ins.operands), str(ins.operator)
        if o in ("m", "l", "c", "v", "y"):
            n = _nums(operands)
            if n is not None:
                for i in range(0, len(n) - 1, 2):
                    w.path_point(gs, n[i], n[i + 1])
                if o != "m" or w._rects:
                    w.non_rect()
        elif o == "h":
            pass
        elif o == "re":
            n = _nums(operands)
            if n is not None and len(n) == 4:
                w.path_rect(gs, *n)
        elif o in ("f", "F", "f*", "B", "B*", "b", "b*", "S", "s", "n"):
            off = any(hidden)
            gs = w.paint(gs, fill=not off and o not in ("S", "s", "n"),
                         stroke=not off and o in ("B", "B*", "b", "b*", "S", "s"))
        elif o in ("W", "W*"):
            w._clip_pending = True
        elif o == "q":
            stack.append(gs)
        elif o == "Q":
            if stack:
                gs = stack.pop()
        elif o == "cm":
            n = _nums(operands)
            if n is not None and len(n) == 6:
                gs = replace(gs, ctm=mul((n[0], n[1], n[2], n[3], n[4], n[5]), gs.ctm))
        elif o in ("g", "G", "rg", "RG", "k", "K", "cs", "CS", "sc", "scn", "SC", "SCN"):
            gs = _set_colour(w, gs, o, operands, resources)
        elif o in ("Tj", "TJ", "'", '"'):
            if not any(hidden):
                if type3:
                    w.add(gs, None, None, exact=False, what="Type 3 font")
                if gs.tr in _FILL_MODES and not gs.fill_alpha0:
                    w.add(gs, gs.fill.colour, None, exact=False, what="text")
                if gs.tr in _STROKE_MODES and not gs.stroke_alpha0:
                    w.add(gs, gs.stroke.colour, None, exact=False, what="stroked text")
        elif o == "Tr":
            n = _nums(operands)
            gs = replace(gs, tr=int(n[0]) if n else 0)
            if gs.tr >= 4:
                gs = replace(gs, clip_exact=False)
        elif o == "Tf":
            fonts = resources.get("/Font") if resources is not None else None
            font = fonts.get(str(operands[0])) if fonts is not None and operands else None
            type3 = font is not None and font.get("/Subtype") == "/Type3"
        elif o == "w":
            n = _nums(operands)
            gs = replace(gs, lw=n[0] if n else 1.0)
        elif o == "M":
            n = _nums(operands)
            gs = replace(gs, miter=n[0] if n else 10.0)
        elif o == "gs":
            gs = _ext_gstate(gs, operands, resources)
        elif o == "sh":
            if not any(hidden) and operands:
                shadings = resources.get("/Shading") if resources is not None else None
                sh = shadings.get(str(operands[0])) if shadings is not None else None
                if sh is not None and not gs.fill_alpha0:
                    w.add(gs, shading.colour(sh, resources, ctx.spaces), gs.clip or w.region,
                          exact=False, what="shading")
        elif o == "BDC":
            hidden.append(_oc_hidden(ctx.state, operands, resources))
        elif o == "BMC":
            hidden.append(False)
        elif o == "EMC":
            if hidden:
                hidden.pop()
        elif o == "Do":
            if not any(hidden):
                _do(w, gs, operands, resources, depth, seen)


def _oc_hidden(state: PrintState, operands: list[object],
               resources: pikepdf.Object | None) -> bool:
    if len(operands) < 2 or operands[0] != "/OC":
        return False
    props = operands[1]
    if isinstance(props, pikepdf.Name):
        table = resources.get("/Properties") if resources is not None else None
        props = table.get(str(props)) if table is not None else None
    return not state.visible(props)


def _ext_gstate(gs: GState, operands: list[object],
                resources: pikepdf.Object | None) -> GState:
    table = resources.get("/ExtGState") if resources is not None else None
    ext = table.get(str(operands[0])) if table is not None and operands else None
    if ext is None:
        return gs
    for key in ("/TR", "/TR2"):
        if key in ext and ext[key] not in ("/Identity", "/Default"):
            raise Undecided("transfer function")
    if "/ca" in ext:
        gs = replace(gs, fill_alpha0=float(ext["/ca"]) == 0)
    if "/CA" in ext:
        gs = replace(gs, stroke_alpha0=float(ext["/CA"]) == 0)
    if "/SMask" in ext:
        gs = replace(gs, smask=ext["/SMask"] != "/None")
    if "/LW" in ext:
        gs = replace(gs, lw=float(ext["/LW"]))
    return gs


def _do(w: Walker, gs: GState, operands: Sequence[object], resources: pikepdf.Object | None,
        depth: int, seen: set[tuple[int, int]]) -> None:
    xobjects = resources.get("/XObject") if resources is not None else None
    name = operands[0] if operands else None
    xobj = xobjects.get(str(name)) if xobjects is not None and name is not None else None
    if xobj is None or not w.ctx.state.visible(xobj.get("/OC")):
        return   # nothing is painted for a missing or non-printing XObject
    subtype = xobj.get("/Subtype")
    if subtype == "/Image":
        box, aligned = transform_box(gs.ctm, (0.0, 0.0, 1.0, 1.0))
        if gs.fill_alpha0:
            return
        if bool(xobj.get("/ImageMask", False)):
            w.add(gs, gs.fill.colour, box, exact=False, what="image mask")
            return
        w.lossy = w.lossy or image_colour.is_lossy(xobj)
        w.add(gs, False, box, exact=aligned, whole=True, what="image",
              lazy=lambda: w.ctx.image(xobj, resources),
              dpi=image_dpi(gs, xobj.get("/Width"), xobj.get("/Height")))
        return
    if subtype != "/Form":
        raise Undecided("unknown XObject")
    key = xobj.objgen
    if depth >= _MAX_DEPTH or key in seen:
        raise Undecided("deep or recursive form")
    memo = (key, gs.fill.colour, gs.stroke.colour, gs.tr, gs.fill_alpha0)
    if not w.recording and memo in w.ctx.neutral_forms:
        return
    matrix = _nums(list(xobj.get("/Matrix", [1, 0, 0, 1, 0, 0]))) or [1, 0, 0, 1, 0, 0]
    inner = replace(gs, ctm=mul((matrix[0], matrix[1], matrix[2], matrix[3], matrix[4],
                                 matrix[5]), gs.ctm))
    bbox = _nums(list(xobj.get("/BBox", [])))
    if bbox is not None and len(bbox) == 4:
        box, aligned = transform_box(inner.ctm, (min(bbox[0], bbox[2]), min(bbox[1], bbox[3]),
                                                 max(bbox[0], bbox[2]), max(bbox[1], bbox[3])))
        inner = w.clip(inner, box, aligned)
    before = (w.recording, len(w.marks))
    seen.add(key)
    _walk(w, xobj, xobj.get("/Resources", resources), inner, depth + 1, seen)
    seen.discard(key)
    if before == (False, len(w.marks)) and not w.recording:
        w.ctx.neutral_forms.add(memo)


def _inline(w: Walker, gs: GState, image: pikepdf.PdfInlineImage,
            resources: pikepdf.Object | None) -> None:
    box, aligned = transform_box(gs.ctm, (0.0, 0.0, 1.0, 1.0))
    d = image.obj
    if bool(d.get("/ImageMask", False)):
        w.add(gs, gs.fill.colour, box, exact=False, what="inline image mask")
        return
    stream = pikepdf.Stream(w.ctx.pdf, bytes(image._data._inline_image_raw_bytes()))
    for k, v in d.items():
        stream[k] = v
    w.lossy = w.lossy or image_colour.is_lossy(stream)
    w.add(gs, False, box, exact=aligned, whole=True, what="inline image",
          lazy=lambda: w.ctx.image(stream, resources),
          dpi=image_dpi(gs, d.get("/Width"), d.get("/Height")))


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
            continue                                  # no appearance: nothing printed
        sub = Walker(w.ctx, w.region, geometry=False)
        sub.recording = True
        _walk(sub, normal, normal.get("/Resources"), GState(), 1, set())
        w.marks += sub.marks
        w.lossy = w.lossy or sub.lossy
        w.recording = w.recording or bool(sub.marks)


def document_context(pdf: pikepdf.Pdf) -> DocumentContext:
    try:
        state = print_state(pdf)
    except (pikepdf.PdfError, AttributeError, TypeError, ValueError):
        state = NONE
    return DocumentContext(pdf, state)


def page_region(obj: pikepdf.Object) -> tuple[float, float, float, float]:
    box = _inherited(obj, "/CropBox") or _inherited(obj, "/MediaBox")
    n = _nums(list(box)) if box is not None else None
    if n is None or len(n) != 4:
        return (-1e30, -1e30, 1e30, 1e30)
    return (min(n[0], n[2]), min(n[1], n[3]), max(n[0], n[2]), max(n[1], n[3]))


def scan_page(page: pikepdf.Page, ctx: DocumentContext) -> Verdict:
    """The page's verdict: gray, colour, or undecided (render it)."""
    obj = page.obj
    w = Walker(ctx, page_region(obj))
    try:
        if obj.get("/Contents") is not None:
            _walk(w, page, _inherited(obj, "/Resources"), GState(), 0, set())
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
