"""The dashboard's charts as inline SVG, drawn on the server (no chart service, no script).

Each chart is an ``<svg role="img">`` with a ``<title>`` and a ``<desc>`` that says what it
shows in words (WAI-ARIA Graphics Module: ``graphics-document``); the page puts the same
figures in a table beside it. Colours are the Okabe-Ito palette, told apart also by
people with colour-vision deficiency; every text is escaped.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from html import escape

from markupsafe import Markup

from ippproxy.jobs.reports import ColourShare, DayPages, UserPages

PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
           "#000000")
COLOUR, MONO, UNKNOWN = "#CC79A7", "#555555", "#BBBBBB"
_ids = itertools.count(1)


def _svg(width: int, height: int, title: str, desc: str, body: str) -> Markup:
    n = next(_ids)
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'role="img" aria-roledescription="chart" aria-labelledby="chart{n}t chart{n}d" '
        f'class="chart" preserveAspectRatio="xMinYMin meet">'
        f'<title id="chart{n}t">{escape(title)}</title><desc id="chart{n}d">{escape(desc)}'
        f'</desc>{body}</svg>')


def _nice_max(value: int) -> int:
    step = 1
    while step * 10 < value:
        step *= 10
    for m in (1, 2, 5, 10):
        if value <= step * m:
            return step * m
    return value


def queue_colours(queues: Sequence[str]) -> dict[str, str]:
    return {q: PALETTE[i % len(PALETTE)] for i, q in enumerate(queues)}


def daily_pages(rows: Sequence[DayPages], days: Sequence[dt.date]) -> Markup:
    """Stacked columns: pages printed per day, one colour per printer."""
    queues = sorted({r.queue for r in rows})
    colours = queue_colours(queues)
    per_day: dict[dt.date, dict[str, int]] = {d: {} for d in days}
    for r in rows:
        per_day.setdefault(r.day, {})[r.queue] = r.pages
    totals = [sum(per_day[d].values()) for d in days]
    top = _nice_max(max(totals, default=0) or 1)
    width, height, left, bottom, top_pad = 640, 260, 44, 40, 10
    plot_h = height - bottom - top_pad
    bar_w = (width - left - 10) / max(len(days), 1)
    axis = (f'<line x1="{left}" y1="{top_pad + plot_h}" x2="{width - 5}" '
            f'y2="{top_pad + plot_h}" stroke="#333"/>')
    parts = [axis]
    for frac in (0.0, 0.5, 1.0):
        if (top * frac) % 1:
            continue    # no half-page tick: an axis of 1 or 5 pages reads 0, 1 or 0, 5
        y = top_pad + plot_h * (1 - frac)
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" '
                     f'font-size="11">{int(top * frac)}</text>')
    for i, d in enumerate(days):
        x = left + i * bar_w + bar_w * 0.15
        y = top_pad + plot_h
        for q in queues:
            pages = per_day[d].get(q, 0)
            if pages:
                h = plot_h * pages / top
                y -= h
                parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w * 0.7:.1f}" '
                             f'height="{h:.1f}" fill="{colours[q]}"><title>{escape(q)}, '
                             f'{d.isoformat()}: {pages} pages</title></rect>')
        if len(days) <= 14 or i % 2 == 0:
            label = d.strftime("%-d %b") if i == 0 or d.day == 1 else str(d.day)
            parts.append(f'<text x="{x + bar_w * 0.35:.1f}" y="{height - bottom + 16}" '
                         f'text-anchor="middle" font-size="11">{label}</text>')
    for i, q in enumerate(queues):
        lx = left + (i % 4) * 150
        ly = height - 8
        parts.append(f'<rect x="{lx}" y="{ly - 9}" width="10" height="10" '
                     f'fill="{colours[q]}"/><text x="{lx + 14}" y="{ly}" '
                     f'font-size="11">{escape(q[:18])}</text>')
    busiest = max(zip(totals, days), default=(0, None))
    desc = (f"{sum(totals)} pages printed on {len(queues)} printer(s) from "
            f"{days[0].isoformat() if days else '-'} to {days[-1].isoformat() if days else '-'}"
            + (f"; the busiest day was {busiest[1].isoformat()} with {busiest[0]} pages."
               if busiest[1] is not None and busiest[0] else "."))
    return _svg(width, height, "Pages printed per day, per printer", desc, "".join(parts))


def colour_share(share: ColourShare) -> Markup:
    """One bar split in colour, monochrome and unknown impressions."""
    total = share.colour + share.mono + share.unknown
    width, height = 640, 70
    parts = []
    x = 0.0
    for label, value, fill in (("colour", share.colour, COLOUR), ("monochrome", share.mono, MONO),
                               ("unknown", share.unknown, UNKNOWN)):
        if total and value:
            w = (width - 2) * value / total
            parts.append(f'<rect x="{x + 1:.1f}" y="4" width="{w:.1f}" height="34" '
                         f'fill="{fill}"><title>{label}: {value} pages</title></rect>')
            if w > 70:
                parts.append(f'<text x="{x + 8:.1f}" y="26" font-size="13" fill="#fff">'
                             f'{label} {round(100 * value / total)} %</text>')
            x += w
    if not total:
        parts.append('<text x="4" y="26" font-size="13">no pages printed yet</text>')

    def pct(v: int) -> int:
        return round(100 * v / total) if total else 0

    desc = (f"Of {total} pages printed, {pct(share.colour)} % had colour, "
            f"{pct(share.mono)} % were monochrome and {pct(share.unknown)} % are of unknown "
            "colour.")
    legend = "".join(
        f'<rect x="{i * 160}" y="50" width="10" height="10" fill="{f}"/>'
        f'<text x="{i * 160 + 14}" y="59" font-size="11">{label}</text>'
        for i, (label, f) in enumerate((("colour", COLOUR), ("monochrome", MONO),
                                        ("unknown", UNKNOWN))))
    return _svg(width, height, "Colour share of printed pages", desc, "".join(parts) + legend)


def top_users(rows: Sequence[UserPages]) -> Markup:
    """Horizontal bars: the users who printed most pages."""
    row_h, left, width = 24, 130, 640
    height = max(len(rows), 1) * row_h + 8
    top = max((r.pages for r in rows), default=0) or 1
    parts = []
    for i, r in enumerate(rows):
        y = 4 + i * row_h
        w = (width - left - 70) * r.pages / top
        parts.append(f'<text x="{left - 6}" y="{y + 15}" text-anchor="end" font-size="12">'
                     f'{escape(r.owner[:18])}</text><rect x="{left}" y="{y + 3}" '
                     f'width="{w:.1f}" height="16" fill="{PALETTE[0]}"/><text '
                     f'x="{left + w + 6:.1f}" y="{y + 15}" font-size="12">{r.pages}</text>')
    if not rows:
        parts.append('<text x="4" y="20" font-size="13">no pages printed yet</text>')
    desc = ("Nobody printed yet." if not rows else
            f"{len(rows)} users; {rows[0].owner} printed most, {rows[0].pages} pages.")
    return _svg(width, height, "Top users by pages printed", desc, "".join(parts))
