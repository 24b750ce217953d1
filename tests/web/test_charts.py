"""The dashboard's SVG charts: well-formed, named for assistive technology, the figures
in words, untrusted names escaped."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

from ippproxy.jobs.reports import ColourShare, DayPages, UserPages
from ippproxy.web.pages import charts

SVG = "{http://www.w3.org/2000/svg}"
EVIL = '<script>alert(1)</script>"&'


def parse(markup: str) -> ET.Element:
    root = ET.fromstring(markup)
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    ids = root.get("aria-labelledby", "").split()
    named = {el.get("id"): (el.text or "") for el in root.iter() if el.get("id")}
    assert [i in named for i in ids] == [True, True]
    return root


def desc(root: ET.Element) -> str:
    found = root.find(f"{SVG}desc")
    assert found is not None and found.text
    return found.text


def test_daily_pages_stack_per_printer() -> None:
    days = [dt.date(2026, 11, 30) + dt.timedelta(days=i) for i in range(3)]
    rows = [DayPages(days[0], "office", 10), DayPages(days[0], EVIL, 5),
            DayPages(days[2], "office", 20)]
    svg = str(charts.daily_pages(rows, days))
    root = parse(svg)
    assert "<script>" not in svg
    bars = [r for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    assert len(bars) == 3
    heights = {r.find(f"{SVG}title").text: float(r.get("height", 0))  # type: ignore[union-attr]
               for r in bars}
    assert heights["office, 2026-12-02: 20 pages"] == 2 * heights["office, 2026-11-30: 10 pages"]
    assert "35 pages printed on 2 printer(s)" in desc(root)
    assert "busiest day was 2026-12-02 with 20 pages" in desc(root)


def test_colour_share_in_words() -> None:
    root = parse(str(charts.colour_share(ColourShare(colour=25, mono=70, unknown=5))))
    assert desc(root) == ("Of 100 pages printed, 25 % had colour, 70 % were monochrome and "
                          "5 % are of unknown colour.")
    empty = parse(str(charts.colour_share(ColourShare(0, 0, 0))))
    assert "Of 0 pages printed" in desc(empty)


def test_top_users_escaped_and_ordered() -> None:
    svg = str(charts.top_users([UserPages(EVIL, 3, 40), UserPages("bob", 1, 10)]))
    root = parse(svg)
    assert "<script>" not in svg
    widths = [float(r.get("width", 0)) for r in root.iter(f"{SVG}rect")]
    assert widths[0] == 4 * widths[1]
    assert "printed most, 40 pages" in desc(root)


def test_daily_pages_axis_has_no_half_page_tick() -> None:
    # With nothing or 5 pages at most, the axis read "1, 0, 0" and "5, 2, 0" (the half
    # page rounded down): only whole pages are labelled.
    days = [dt.date(2026, 11, 30) + dt.timedelta(days=i) for i in range(3)]

    def axis(rows: list[DayPages]) -> list[str]:
        root = parse(str(charts.daily_pages(rows, days)))
        return [t.text or "" for t in root.iter(f"{SVG}text") if t.get("text-anchor") == "end"]

    assert axis([]) == ["0", "1"]
    assert axis([DayPages(days[0], "office", 5)]) == ["0", "5"]
    assert axis([DayPages(days[0], "office", 20)]) == ["0", "10", "20"]
