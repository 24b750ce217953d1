"""PWG 5100.6 page overrides as the codec's helpers read them (ipp/overrides.py)."""

from __future__ import annotations

import pytest

from ippproxy.ipp import Attribute, Collection, RangeOfInteger, Tag
from ippproxy.ipp import overrides as pwg


def _ranges(name: str, *ranges: tuple[int, int]) -> Attribute:
    return Attribute.multi(name, Tag.RANGE_OF_INTEGER, [RangeOfInteger(*r) for r in ranges])


MONO = Attribute.single("print-color-mode", Tag.KEYWORD, "monochrome")


def test_selectors_and_members() -> None:
    o = pwg.parse_one(Collection((_ranges("document-numbers", (2, 2)),
                                  _ranges("pages", (1, 3), (7, 7)), MONO)))
    assert (o.documents, o.pages, o.members) == (((2, 2),), ((1, 3), (7, 7)), (MONO,))
    assert o.selects(2, 3) and o.selects(2, 7)
    assert not o.selects(1, 3) and not o.selects(2, 4)
    every = pwg.parse_one(Collection((MONO,)))          # no selector: every page
    assert every.selects(9, 99) and every.overlaps(o)
    assert pwg.as_collection(o) == Collection((_ranges("document-numbers", (2, 2)),
                                               _ranges("pages", (1, 3), (7, 7)), MONO))


def test_value_at_is_the_first_collection_that_sets_it() -> None:
    a = pwg.parse_one(Collection((_ranges("pages", (1, 2)), MONO)))
    b = pwg.parse_one(Collection((_ranges("pages", (2, 5)),
                                  Attribute.single("print-color-mode", Tag.KEYWORD, "color"))))
    assert a.overlaps(b) and not a.overlaps(pwg.parse_one(Collection((_ranges("pages", (3, 3)),
                                                                        MONO))))
    assert pwg.value_at((a, b), "print-color-mode", 1, 2) == MONO
    assert pwg.value_at((a, b), "print-color-mode", 1, 6) is None
    assert pwg.value_at((a, b), "sides", 1, 1) is None


@pytest.mark.parametrize("value", [
    Collection((_ranges("pages", (0, 1)), MONO)),
    Collection((_ranges("pages", (3, 2)), MONO)),
    Collection((Attribute.single("pages", Tag.INTEGER, 1), MONO)),
    "pages",
])
def test_bad_values_are_errors(value: object) -> None:
    with pytest.raises(pwg.OverrideError):
        pwg.parse_one(value)


def test_find_ignores_a_bad_stored_value() -> None:
    bad = Attribute.single("overrides", Tag.KEYWORD, "pages")
    assert pwg.find([bad]) == ()
    good = Attribute("overrides", ((Tag.BEGIN_COLLECTION, Collection((MONO,))),))
    assert len(pwg.find([good])) == 1
