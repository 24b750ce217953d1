"""Can a shading paint a non-neutral colour?  (ISO 32000-1 §8.7.4.5)

Theory of operation
-------------------
A shading paints a continuum of colours from its function (types 1-3) or from
colours at the vertices of a mesh (types 4-7), in its colour space.  We prove
it neutral or find one colour it paints:

* a gray-family space, or a Separation/DeviceN of ``/All`` or ``/None``: neutral;
* a function shading: the function (or array of functions) is evaluated at
  ``SAMPLES`` points of its domain (both ends included, and for type 1 a grid);
  a non-neutral sample is a colour the shading paints (True).  When every
  sample is neutral the shading is proved neutral only when its functions are
  type 2 (exponential interpolation between neutral C0 and C1 stays neutral for
  every t: equal components stay equal, zero C, M, Y stay zero), or type 3
  stitching of such; otherwise it is undecided (None);
* mesh shadings (types 4-7) carry their colours in packed vertex data: unless
  the space is gray they are undecided (None), and the page is rendered.

Where the shading paints (its domain may not reach an end colour, ``/Extend``,
``/BBox``, the clip) is not modelled: a True here is "may print colour", and
the walk records it as a mark of unknown extent, so the page is rendered.
"""

from __future__ import annotations

import pikepdf

from ippproxy.filters.functions import Undecidable, evaluate
from ippproxy.filters.vector_colour import Space, resolve

SAMPLES = 33


def _provable(fn: pikepdf.Object, depth: int = 0) -> bool:
    """Functions whose neutral samples prove every value neutral (type 2, stitched)."""
    if depth > 8:
        return False
    if isinstance(fn, pikepdf.Array):
        return all(_provable(f, depth + 1) for f in fn)
    kind = int(fn.get("/FunctionType", -1))
    if kind == 2:
        return True
    if kind == 3:
        return all(_provable(f, depth + 1) for f in fn.get("/Functions", []))
    return False


def _domain(sh: pikepdf.Object, fn: pikepdf.Object) -> list[float]:
    d = sh.get("/Domain")
    if d is None:
        first = fn[0] if isinstance(fn, pikepdf.Array) and len(fn) else fn
        d = first.get("/Domain")
    return [float(v) for v in d] if d is not None else [0.0, 1.0]


def colour(sh: object, resources: pikepdf.Object | None,
           cache: dict[tuple[int, int], Space]) -> bool | None:
    """True: paints some non-neutral colour; False: neutral; None: undecided."""
    if not isinstance(sh, (pikepdf.Dictionary, pikepdf.Stream)):    # types 4-7 are streams
        return False
    try:
        space = resolve(sh.get("/ColorSpace"), resources, cache)
        if space.family == "gray" or (space.family == "separation" and space.neutral_colorants):
            return False
        kind = int(sh.get("/ShadingType", 0))
        fn = sh.get("/Function")
        if kind not in (1, 2, 3) or fn is None:
            return None
        dom = _domain(sh, fn)
        if kind == 1:
            xs = [dom[0] + (dom[1] - dom[0]) * i / (SAMPLES - 1) for i in range(SAMPLES)]
            ys = [dom[2] + (dom[3] - dom[2]) * i / (SAMPLES - 1) for i in range(SAMPLES)]
            points = [[x, y] for x in xs for y in ys]
        else:
            points = [[dom[0] + (dom[1] - dom[0]) * i / (SAMPLES - 1)] for i in range(SAMPLES)]
        for p in points:
            if space.judge(evaluate(fn, p)):
                return True
        return False if kind != 1 and _provable(fn) else None
    except (Undecidable, pikepdf.PdfError, TypeError, ValueError, IndexError, AttributeError):
        return None
