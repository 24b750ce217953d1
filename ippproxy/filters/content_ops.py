"""The content-stream interpreter: operators to graphics state and marks (ISO 32000-1 §8, §9).

Theory of operation
-------------------
``walk`` runs one content stream (a page, a form, a pattern cell, an annotation
appearance) through qpdf's operator-filtered tokenizer, updating the graphics
state of content_walk.py and adding a mark for each painting operator: path
painting (§8.5.3.1), text showing by rendering mode (§9.4.3, §9.3.6), ``sh``
(§8.7.4.2), ``Do`` of images and forms (§8.9, §8.10) with their ``/OC``
(§8.11.3.3), inline images (§8.9.7), and fills with patterns (§8.7.3).
Marked content ``/OC ... BDC`` hides what it brackets when its group or
membership dictionary does not print; unknown operators are ignored, as a
reader does (§7.8.2).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import replace

import pikepdf

from ippproxy.filters import image_colour, shading
from ippproxy.filters.content_walk import (
    DEVICE,
    OPS,
    GState,
    Paint,
    Undecided,
    Walker,
    ext_gstate,
    image_dpi,
    mul,
    nums,
    oc_hidden,
    paint_of,
    transform_box,
)
from ippproxy.filters.errors import LimitExceeded
from ippproxy.filters.functions import Undecidable
from ippproxy.filters.marks import verdict
from ippproxy.filters.vector_colour import Space

UNKNOWN = Space("unknown", 0)
MAX_CONTENT_BYTES = 256 << 20     # decoded content of one page or form
_MAX_DEPTH = 8
_FILL_MODES, _STROKE_MODES = {0, 2, 4, 6}, {1, 2, 5, 6}


def _set_colour(w: Walker, gs: GState, o: str, operands: Sequence[object],
                resources: pikepdf.Object | None) -> GState:
    stroke = o.isupper()
    cur = gs.stroke if stroke else gs.fill
    low = o.lower()
    if low in DEVICE:
        p = paint_of(DEVICE[low], nums(operands))
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
        p = paint_of(cur.space, nums(operands))
    return replace(gs, stroke=p) if stroke else replace(gs, fill=p)


def _pattern(w: Walker, cur: Paint, operands: Sequence[object],
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
        return paint_of(base, nums(operands[:-1])).colour
    key = pat.objgen
    if key in w.ctx.patterns:
        return w.ctx.patterns[key]
    cell = Walker(w.ctx, (-1e30, -1e30, 1e30, 1e30), geometry=False)
    cell.recording = True
    try:
        walk(cell, pat, pat.get("/Resources", resources), GState(), 1, set())
        v = verdict(cell.marks).colour
    except Undecided:
        v = None
    w.ctx.patterns[key] = v
    return v


def guard_size(contents: object) -> None:
    """Refuse a content stream that inflates past ``MAX_CONTENT_BYTES`` (a decompression
    bomb), measured by inflating it in pieces that are thrown away: memory stays flat."""
    streams = list(contents) if isinstance(contents, pikepdf.Array) else [contents]
    total = 0
    for s in streams:
        if not isinstance(s, pikepdf.Stream) or s.get("/Filter") not in ("/FlateDecode", "/Fl"):
            continue
        inflate = zlib.decompressobj()
        raw = s.read_raw_bytes()
        for at in range(0, len(raw), 1 << 16):
            piece = raw[at:at + (1 << 16)]
            while piece:
                total += len(inflate.decompress(piece, 1 << 20))
                if total > MAX_CONTENT_BYTES:
                    raise LimitExceeded("a content stream decompresses to more memory than "
                                        f"allowed ({MAX_CONTENT_BYTES >> 20} MB): a "
                                        "decompression bomb")
                piece = inflate.unconsumed_tail
            if inflate.eof:
                break


def walk(w: Walker, owner: pikepdf.Object | pikepdf.Page, resources: pikepdf.Object | None,
          gs: GState, depth: int, seen: set[tuple[int, int]], *, guarded: bool = False) -> None:
    stack: list[GState] = []
    hidden: list[bool] = []
    ctx = w.ctx
    type3 = False
    if not guarded:
        guard_size(owner.obj.get("/Contents") if isinstance(owner, pikepdf.Page) else owner)
    for ins in pikepdf.parse_content_stream(owner, OPS):
        if isinstance(ins, pikepdf.ContentStreamInlineImage):
            if not any(hidden):
                _inline(w, gs, ins.iimage, resources)
            continue
        operands, o = list(ins.operands), str(ins.operator)
        if o in ("m", "l", "c", "v", "y"):
            n = nums(operands)
            if n is not None:
                for i in range(0, len(n) - 1, 2):
                    w.path_point(gs, n[i], n[i + 1])
                if o != "m" or w._rects:
                    w.non_rect()
        elif o == "h":
            pass
        elif o == "re":
            n = nums(operands)
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
            n = nums(operands)
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
            n = nums(operands)
            gs = replace(gs, tr=int(n[0]) if n else 0)
            if gs.tr >= 4:
                gs = replace(gs, clip_exact=False)
        elif o == "Tf":
            fonts = resources.get("/Font") if resources is not None else None
            font = fonts.get(str(operands[0])) if fonts is not None and operands else None
            type3 = font is not None and font.get("/Subtype") == "/Type3"
        elif o == "w":
            n = nums(operands)
            gs = replace(gs, lw=n[0] if n else 1.0)
        elif o == "M":
            n = nums(operands)
            gs = replace(gs, miter=n[0] if n else 10.0)
        elif o == "gs":
            gs = ext_gstate(gs, operands, resources)
        elif o == "sh":
            if not any(hidden) and operands:
                shadings = resources.get("/Shading") if resources is not None else None
                sh = shadings.get(str(operands[0])) if shadings is not None else None
                if sh is not None and not gs.fill_alpha0:
                    w.add(gs, shading.colour(sh, resources, ctx.spaces), gs.clip or w.region,
                          exact=False, what="shading")
        elif o == "BDC":
            hidden.append(oc_hidden(ctx.state, operands, resources))
        elif o == "BMC":
            hidden.append(False)
        elif o == "EMC":
            if hidden:
                hidden.pop()
        elif o == "Do" and not any(hidden):
            _do(w, gs, operands, resources, depth, seen)


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
    matrix = nums(list(xobj.get("/Matrix", [1, 0, 0, 1, 0, 0]))) or [1, 0, 0, 1, 0, 0]
    inner = replace(gs, ctm=mul((matrix[0], matrix[1], matrix[2], matrix[3], matrix[4],
                                 matrix[5]), gs.ctm))
    bbox = nums(list(xobj.get("/BBox", [])))
    if bbox is not None and len(bbox) == 4:
        box, aligned = transform_box(inner.ctm, (min(bbox[0], bbox[2]), min(bbox[1], bbox[3]),
                                                 max(bbox[0], bbox[2]), max(bbox[1], bbox[3])))
        inner = w.clip(inner, box, aligned)
    before = w.attempts
    seen.add(key)
    walk(w, xobj, xobj.get("/Resources", resources), inner, depth + 1, seen)
    seen.discard(key)
    if w.attempts == before:    # nothing that may be colour, wherever the form is placed
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
