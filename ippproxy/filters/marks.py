"""Marks a page's content paints, and the verdict they give (no PDF parsing here).

Theory of operation
-------------------
The content walk (content_walk.py) turns every painting operator that prints
(in the print state of its optional content, not fully transparent, not
clipped or placed wholly off the page) into a ``Mark``: whether its colour is
neutral (False), non-neutral (True) or not known exactly (None, e.g. a
shading whose function cannot be proved neutral), and where it lies in
default user space when that is known exactly (an axis-aligned rectangle
fill, an image's unit square).  An image's colour is *lazy*: its samples are
decoded only when the page's verdict depends on them.

``verdict(marks)``:

* no mark that may be colour: the page is gray (exact);
* a colour mark of exact geometry inside the visible area, with no later mark
  that could cover it (a later mark of unknown extent, e.g. text whose glyph
  outlines are not known here, or one whose rectangle overlaps it): colour
  (exact: ISO 32000-1 §8.2 paints marks in order, opaque unless transparency
  says otherwise, and nothing later covers this one);
* otherwise: undecided, and the render fallback decides (colour.py), which sees
  what is covered and what is clipped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

Rect = tuple[float, float, float, float]
MAX_OCCLUDERS = 512           # later rectangles compared against one candidate
MAX_CANDIDATES = 64           # colour marks tried as the certain one


@dataclass(frozen=True)
class Mark:
    colour: bool | None
    rect: Rect | None = None       # exact painted rectangle (default user space), if known
    extent: Rect | None = None     # a bound of the painted area, if known
    lazy: Callable[[], bool | None] | None = field(default=None, compare=False)
    what: str = ""
    dpi: float = 0.0               # an image's own resolution as placed (pixels per inch)

    def resolved(self) -> bool | None:
        return self.lazy() if self.lazy is not None else self.colour


@dataclass(frozen=True)
class Verdict:
    colour: bool | None            # None: undecided, render it
    reason: str = ""
    lossy: bool = False            # lossy image data on the page (the render's tolerance)
    dpi: float = 0.0               # the finest resolution of a colour image on the page


def intersect(a: Rect, b: Rect) -> Rect | None:
    r = (max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3]))
    return r if r[0] < r[2] and r[1] < r[3] else None


def touches(a: Rect, b: Rect) -> bool:
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


def verdict(marks: Sequence[Mark], lossy: bool = False) -> Verdict:
    possible = [i for i, m in enumerate(marks) if m.colour is not False or m.lazy is not None]
    if not possible:
        return Verdict(False, lossy=lossy)
    # Certain colour: a known-colour mark of exact geometry that nothing later covers
    # (at most MAX_CANDIDATES tried, so a page of many covered marks stays linear).
    order = sorted(possible, key=lambda i: (marks[i].lazy is not None, i))
    for i in order[:MAX_CANDIDATES]:
        m = marks[i]
        if m.rect is None or (m.colour is not True and m.lazy is None):
            continue
        if _covered_later(m.rect, marks[i + 1:]):
            continue
        if m.resolved():
            return Verdict(True, m.what, lossy)
    # Gray when every possible colour mark resolves neutral.
    undecided, dpi = "", 0.0
    for i in possible:
        c = marks[i].resolved()
        if c is None:
            undecided = undecided or marks[i].what or "undecidable colour"
        elif c:
            undecided = undecided or f"{marks[i].what or 'colour'} that may be covered"
        if c is not False:
            dpi = max(dpi, marks[i].dpi)
    if not undecided:
        return Verdict(False, lossy=lossy)
    return Verdict(None, undecided, lossy, dpi)


def _covered_later(rect: Rect, later: Sequence[Mark]) -> bool:
    if len(later) > MAX_OCCLUDERS:
        return True
    for m in later:
        box = m.extent or m.rect
        if box is None or touches(box, rect):
            return True
    return False
