"""The content-stream walk: graphics state in, ``Mark`` list out (ISO 32000-1 §8, §9).

Theory of operation
-------------------
One pass over a page's content stream (and the forms, patterns and annotation
appearances it uses) with qpdf's tokenizer, keeping only the graphics state
that decides what prints and in which colour:

* the CTM (``q``/``Q``/``cm``, form ``/Matrix``), rectangle clips (``re W n``,
  form ``/BBox``), the current path's bounding box (§8.5);
* the fill and stroke colour spaces and colours (``cs``/``sc``/``scn``,
  ``g``/``rg``/``k`` and their stroking forms, §8.6.8), judged exactly by
  vector_colour.py when they are set;
* optional content in its print state (optional_content.py): ``/OC /name BDC
  ... EMC`` marked content and the ``/OC`` of form and image XObjects (§8.11.3);
* the text rendering mode (``Tr`` 3 and 7 paint nothing, §9.3.6) and
  ``ExtGState`` alpha (``ca``/``CA`` 0 paints nothing, §11.6.4.4), soft masks
  (the extent of what shows is unknown) and transfer functions (undecided).

Each painting operator that can print becomes a ``Mark`` (marks.py); a mark
wholly outside the page or the clip is dropped, and neutral marks are kept
only after the first mark that may be colour (they matter then only as
possible covers).  Forms that paint nothing non-neutral under a given inherited
colour are remembered per document, so a logo form on 1,000 pages is walked once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

import pikepdf

from ippproxy.filters import image_colour, marks
from ippproxy.filters.functions import Undecidable
from ippproxy.filters.marks import Mark, Rect
from ippproxy.filters.optional_content import PrintState
from ippproxy.filters.vector_colour import CMYK, DEFAULT, GRAY, RGB, Space, resolve

OPS = ("q Q cm w M gs m l c v y h re f F f* B B* b b* S s n W W* Tr Tf Tj TJ ' \" "
       "g G rg RG k K cs CS sc scn SC SCN sh Do BDC BMC EMC BI ID EI")
QUICK_OPS = "g G rg RG k K cs CS sc scn SC SCN sh Do gs Tf BI ID EI"
Matrix = tuple[float, float, float, float, float, float]
_IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


class Undecided(Exception):
    """The page as a whole cannot be judged from its content (``reason`` says why)."""


@dataclass(frozen=True)
class Paint:
    space: Space
    colour: bool | None                    # judged when set


@dataclass(frozen=True)
class GState:
    ctm: Matrix = _IDENTITY
    fill: Paint = Paint(DEFAULT, False)
    stroke: Paint = Paint(DEFAULT, False)
    clip: Rect | None = None               # bound of the clip (default user space)
    clip_exact: bool = True                # the clip is exactly that rectangle
    tr: int = 0
    fill_alpha0: bool = False
    stroke_alpha0: bool = False
    smask: bool = False                    # a soft mask or blend mode: what shows is unknown
    lw: float = 1.0
    miter: float = 10.0


def mul(m: Matrix, n: Matrix) -> Matrix:
    """m then n (PDF row-vector convention: [x y 1] x m x n)."""
    a, b, c, d, e, f = m
    A, B, C, D, E, F = n
    return (a * A + b * C, a * B + b * D, c * A + d * C, c * B + d * D,
            e * A + f * C + E, e * B + f * D + F)


def transform_box(m: Matrix, box: Rect) -> tuple[Rect, bool]:
    """The bounding box of ``box`` under ``m`` and whether it maps to exactly that box."""
    x0, y0, x1, y1 = box
    pts = [(x * m[0] + y * m[2] + m[4], x * m[1] + y * m[3] + m[5])
           for x, y in ((x0, y0), (x1, y0), (x0, y1), (x1, y1))]
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    return (min(xs), min(ys), max(xs), max(ys)), m[1] == 0 and m[2] == 0


class Walker:
    def __init__(self, ctx: DocumentContext, region: Rect, *, geometry: bool = True) -> None:
        self.ctx, self.region, self.geometry = ctx, region, geometry
        self.marks: list[Mark] = []
        self.recording = False
        self.attempts = 0            # marks that may be colour, visible or not
        self.lossy = False
        self._path: Rect | None = None
        self._rects = 0
        self._curved = False
        self._clip_pending = False

    # ---- marks ----
    def add(self, gs: GState, colour: bool | None, box: Rect | None, *, exact: bool,
            what: str, lazy: Callable[[], bool | None] | None = None,
            whole: bool = False, dpi: float = 0.0) -> None:
        if colour is not False or lazy is not None:
            self.attempts += 1
        if colour is False and lazy is None and not self.recording:
            return
        region = self.region if gs.clip is None else (marks.intersect(self.region, gs.clip)
                                                      or (0.0, 0.0, 0.0, 0.0))
        if box is not None and not marks.touches(box, region):
            return                                  # wholly off the page or clipped away
        rect = None
        if self.geometry and exact and box is not None and gs.clip_exact and not gs.smask:
            inside = marks.intersect(box, region)
            if inside is not None and (not whole or inside == box):
                rect = inside
        if gs.smask or not self.geometry:
            box = None
        self.marks.append(Mark(colour, rect, box, lazy, what, dpi))
        if colour is not False or lazy is not None:
            self.recording = True

    # ---- paths ----
    def path_point(self, gs: GState, x: float, y: float) -> None:
        m = gs.ctm
        px, py = x * m[0] + y * m[2] + m[4], x * m[1] + y * m[3] + m[5]
        p = self._path
        self._path = (px, py, px, py) if p is None else \
            (min(p[0], px), min(p[1], py), max(p[2], px), max(p[3], py))

    def path_rect(self, gs: GState, x: float, y: float, w: float, h: float) -> None:
        box, aligned = transform_box(gs.ctm, (min(x, x + w), min(y, y + h),
                                              max(x, x + w), max(y, y + h)))
        p = self._path
        self._path = box if p is None else (min(p[0], box[0]), min(p[1], box[1]),
                                            max(p[2], box[2]), max(p[3], box[3]))
        self._rects += 1
        self._curved = self._curved or not aligned

    def paint(self, gs: GState, fill: bool, stroke: bool) -> GState:
        box = self._path
        if box is not None:
            simple = self._rects == 1 and not self._curved
            if fill and not gs.fill_alpha0:    # a pattern's cells may leave the area bare
                self.add(gs, gs.fill.colour, box, what="fill",
                         exact=simple and gs.fill.space.family != "pattern")
            if stroke and not gs.stroke_alpha0:
                m = gs.ctm
                half = max(gs.lw, 1.0) * max(abs(m[0]) + abs(m[2]), abs(m[1]) + abs(m[3]),
                                             1.0) * max(gs.miter, 1.0) / 2 + 1.0
                self.add(gs, gs.stroke.colour, (box[0] - half, box[1] - half,
                                                box[2] + half, box[3] + half),
                         exact=False, what="stroke")
        if self._clip_pending:
            gs = self.clip(gs, box, self._rects == 1 and not self._curved)
        self._path, self._rects, self._curved, self._clip_pending = None, 0, False, False
        return gs

    def clip(self, gs: GState, box: Rect | None, exact: bool) -> GState:
        if box is None:
            return replace(gs, clip=(0.0, 0.0, 0.0, 0.0), clip_exact=True)
        if gs.clip is None:
            return replace(gs, clip=box, clip_exact=exact)
        inside = marks.intersect(gs.clip, box) or (0.0, 0.0, 0.0, 0.0)
        return replace(gs, clip=inside, clip_exact=gs.clip_exact and exact)

    def non_rect(self) -> None:
        self._curved = True
        self._rects += 2           # any path that is not one rectangle


def image_dpi(gs: GState, width: object, height: object) -> float:
    """Pixels per inch of an image as placed by the CTM (its unit square, §8.9.4)."""
    m = gs.ctm
    try:
        w, h = float(width), float(height)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0
    sx, sy = (m[0] ** 2 + m[1] ** 2) ** 0.5, (m[2] ** 2 + m[3] ** 2) ** 0.5
    return max(w / sx * 72 if sx else 0.0, h / sy * 72 if sy else 0.0)


class DocumentContext:
    """Per-document caches: colour spaces, image verdicts, neutral forms, print state."""

    def __init__(self, pdf: pikepdf.Pdf, state: PrintState) -> None:
        self.pdf, self.state = pdf, state
        self.spaces: dict[tuple[int, int], Space] = {}
        self.images: dict[tuple[int, int], bool | None] = {}
        self.neutral_forms: set[tuple[object, ...]] = set()
        self.patterns: dict[tuple[int, int], bool | None] = {}

    def space(self, obj: object, resources: pikepdf.Object | None) -> Space:
        return resolve(obj, resources, self.spaces)

    def image(self, xobj: pikepdf.Object, resources: pikepdf.Object | None) -> bool | None:
        key = xobj.objgen
        if key != (0, 0) and key in self.images:
            return self.images[key]
        try:
            value: bool | None = image_colour.judge(xobj, resources, self.spaces)
        except Undecidable:
            value = None
        except (pikepdf.PdfError, ValueError, TypeError, KeyError, AttributeError, OSError):
            value = None
        if key != (0, 0):
            self.images[key] = value
        return value


def paint_of(space: Space, values: list[float] | None) -> Paint:
    if space.family == "pattern":
        return Paint(space, None)        # set by the walk (pattern dictionary)
    if values is None or len(values) != space.n:
        return Paint(space, None)        # a malformed operator: what a reader keeps varies
    try:
        return Paint(space, space.judge(values))
    except Undecidable:
        return Paint(space, None)


DEVICE: dict[str, Space] = {"g": GRAY, "G": GRAY, "rg": RGB, "RG": RGB, "k": CMYK, "K": CMYK}


def nums(operands: Sequence[object]) -> list[float] | None:
    out = []
    for o in operands:
        if isinstance(o, bool) or not isinstance(o, (int, float, Decimal)):
            return None
        out.append(float(o))
    return out


def oc_hidden(state: PrintState, operands: Sequence[object],
               resources: pikepdf.Object | None) -> bool:
    if len(operands) < 2 or operands[0] != "/OC":
        return False
    props = operands[1]
    if isinstance(props, pikepdf.Name):
        table = resources.get("/Properties") if resources is not None else None
        props = table.get(str(props)) if table is not None else None
    return not state.visible(props)


def ext_gstate(gs: GState, operands: Sequence[object],
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
    if "/BM" in ext:    # a blend mode other than Normal may mute or make colour (§11.3.5)
        modes = ext["/BM"] if isinstance(ext["/BM"], pikepdf.Array) else [ext["/BM"]]
        gs = replace(gs, smask=gs.smask or any(m not in ("/Normal", "/Compatible")
                                               for m in modes))
    if "/LW" in ext:
        gs = replace(gs, lw=float(ext["/LW"]))
    return gs
