"""A user's pagometer as a small inline SVG pie (SavaPage §4.4.1): pages printed in
monochrome, in colour, and pages of jobs that never printed, with a ``<title>`` and a
``<desc>`` saying the figures in words (WAI-ARIA Graphics Module), in the dashboard's
colours (Okabe-Ito: told apart also with colour-vision deficiency). Drawn on the server.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from html import escape

from markupsafe import Markup

from ippproxy.web.pages.charts import COLOUR, MONO

UNPRINTED = "#D55E00"
EMPTY = "#DDDDDD"
_ids = itertools.count(1)
_R = 20.0  # radius; the pie is 40 x 40


def _slice(start: float, end: float, fill: str, label: str) -> str:
    """A sector from ``start`` to ``end`` (fractions of the circle, clockwise from 12)."""
    if end - start >= 1:
        return (f'<circle cx="{_R}" cy="{_R}" r="{_R}" fill="{fill}">'
                f'<title>{escape(label)}</title></circle>')
    a0, a1 = 2 * math.pi * start, 2 * math.pi * end
    x0, y0 = _R + _R * math.sin(a0), _R - _R * math.cos(a0)
    x1, y1 = _R + _R * math.sin(a1), _R - _R * math.cos(a1)
    large = 1 if end - start > 0.5 else 0
    return (f'<path d="M{_R},{_R} L{x0:.2f},{y0:.2f} A{_R},{_R} 0 {large} 1 {x1:.2f},{y1:.2f} Z" '
            f'fill="{fill}"><title>{escape(label)}</title></path>')


def pie(user: str, meter: Mapping[str, int]) -> Markup:
    parts = (("monochrome", meter["mono"], MONO), ("colour", meter["colour"], COLOUR),
             ("not printed", meter["unprinted"], UNPRINTED))
    total = sum(v for _, v, _ in parts)
    desc = (f"{meter['mono']} pages printed in monochrome, {meter['colour']} in colour, "
            f"{meter['unprinted']} pages of jobs that never printed")
    body, at = [], 0.0
    if not total:
        body.append(f'<circle cx="{_R}" cy="{_R}" r="{_R - 1}" fill="{EMPTY}"/>')
    for label, value, fill in parts:
        if value:
            body.append(_slice(at, at + value / total, fill, f"{label}: {value} pages"))
            at += value / total
    n = next(_ids)
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 40" width="40" height="40" '
        f'role="img" class="pie" aria-labelledby="pie{n}t pie{n}d">'
        f'<title id="pie{n}t">Pagometer of {escape(user)}</title>'
        f'<desc id="pie{n}d">{escape(desc)}</desc>{"".join(body)}</svg>')
