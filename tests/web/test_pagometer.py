"""The pagometer pie (``web.pages.pagometer``): one sector per non-zero figure in its own
colour, a full circle for one figure alone, an empty circle for nothing, and the user's
name escaped in its title."""

from __future__ import annotations

import re

from ippproxy.web.pages.charts import COLOUR, MONO
from ippproxy.web.pages.pagometer import EMPTY, UNPRINTED, pie


def meter(mono: int, colour: int, unprinted: int) -> dict[str, int]:
    return {"mono": mono, "colour": colour, "unprinted": unprinted}


def test_sectors_in_their_colours() -> None:
    svg = str(pie("jason", meter(6, 2, 2)))
    assert svg.count("<path") == 3
    for fill in (MONO, COLOUR, UNPRINTED):
        assert f'fill="{fill}"' in svg
    assert "monochrome: 6 pages" in svg and "not printed: 2 pages" in svg
    # Mono is 60 %: more than half the circle, so its arc is the large one.
    assert re.search(r"A20.0,20.0 0 1 1", svg)
    assert 'role="img"' in svg and "6 pages printed in monochrome, 2 in colour" in svg


def test_one_figure_is_a_circle_nothing_is_empty() -> None:
    assert str(pie("a", meter(0, 5, 0))).count(f'<circle cx="20.0" cy="20.0" r="20.0" '
                                               f'fill="{COLOUR}"') == 1
    empty = str(pie("a", meter(0, 0, 0)))
    assert f'fill="{EMPTY}"' in empty and "<path" not in empty


def test_the_name_is_escaped() -> None:
    svg = str(pie("<script>x</script>", meter(1, 0, 0)))
    assert "<script>" not in svg and "&lt;script&gt;" in svg
