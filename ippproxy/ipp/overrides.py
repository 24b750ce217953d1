"""Page overrides (PWG 5100.6): which pages of which documents an ``overrides`` value selects.

``overrides`` is a Job Template attribute, 1setOf collection (PWG 5100.6 §3.1). Each
collection selects pages with the member attributes ``document-numbers`` (1setOf
rangeOfInteger(1:MAX), the documents of the job, numbered from 1) and ``pages`` (1setOf
rangeOfInteger(1:MAX), the pages of each selected document, numbered from 1 as for
``page-ranges``), and carries Job Template attributes (``media``, ``sides``, ...) that
replace the job's values on the pages it selects. A collection without ``pages`` selects
every page of its documents, one without ``document-numbers`` every document.

``parse`` reads one attribute into :class:`PageOverride` values (pure, no I/O); a value
that is not a collection, or a selector with a value that is not a valid range, makes
:class:`OverrideError`. Checking the member attributes against what a printer supports is
the caller's (``pipeline.overrides``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .attribute import Attribute, Collection
from .tags import Tag
from .values import RangeOfInteger

NAME = "overrides"
DOCUMENT_NUMBERS = "document-numbers"
PAGES = "pages"
SELECTORS = frozenset({DOCUMENT_NUMBERS, PAGES})
Ranges = tuple[tuple[int, int], ...]


class OverrideError(ValueError):
    """An ``overrides`` value PWG 5100.6 does not allow."""


@dataclass(frozen=True)
class PageOverride:
    """One collection of ``overrides``: the pages it selects and what it sets there."""

    documents: Ranges | None          # None: every document
    pages: Ranges | None              # None: every page
    members: tuple[Attribute, ...]    # the Job Template attributes it overrides

    def selects(self, document: int, page: int) -> bool:
        return _within(document, self.documents) and _within(page, self.pages)

    def member(self, name: str) -> Attribute | None:
        return next((m for m in self.members if m.name == name), None)

    def overlaps(self, other: PageOverride) -> bool:
        """Whether a page of some document is selected by both."""
        return _meet(self.documents, other.documents) and _meet(self.pages, other.pages)


def _within(n: int, ranges: Ranges | None) -> bool:
    return ranges is None or any(lo <= n <= hi for lo, hi in ranges)


def _meet(a: Ranges | None, b: Ranges | None) -> bool:
    if a is None or b is None:
        return True
    return any(lo1 <= hi2 and lo2 <= hi1 for lo1, hi1 in a for lo2, hi2 in b)


def _ranges(attr: Attribute) -> Ranges:
    out = []
    for _, v in attr.values:
        if not isinstance(v, RangeOfInteger) or not 1 <= v.lower <= v.upper:
            raise OverrideError(f"{attr.name} must be ranges of integers from 1 "
                                f"(PWG 5100.6 §3.1)")
        out.append((v.lower, v.upper))
    return tuple(out)


def parse_one(value: object) -> PageOverride:
    """One ``overrides`` collection."""
    if not isinstance(value, Collection):
        raise OverrideError("each overrides value must be a collection (PWG 5100.6 §3.1)")
    documents = value.get(DOCUMENT_NUMBERS)
    pages = value.get(PAGES)
    return PageOverride(
        documents=None if documents is None else _ranges(documents),
        pages=None if pages is None else _ranges(pages),
        members=tuple(a for a in value.attributes if a.name not in SELECTORS))


def parse(attr: Attribute) -> tuple[PageOverride, ...]:
    return tuple(parse_one(v) for _, v in attr.values)


def find(attributes: Iterable[Attribute]) -> tuple[PageOverride, ...]:
    """The job's overrides (none when it has no ``overrides`` or an invalid one: the
    intake checked it, so a bad stored value is ignored rather than trusted)."""
    for a in attributes:
        if a.name == NAME:
            try:
                return parse(a)
            except OverrideError:
                return ()
    return ()


def value_at(overrides: Sequence[PageOverride], name: str, document: int,
             page: int) -> Attribute | None:
    """The override of ``name`` on ``page`` of ``document`` (the first collection that
    selects it and sets ``name``), or None: the job's own value applies."""
    for o in overrides:
        if o.selects(document, page):
            m = o.member(name)
            if m is not None:
                return m
    return None


def as_collection(o: PageOverride) -> Collection:
    """The collection ``o`` was read from (selectors first)."""
    out: list[Attribute] = []
    if o.documents is not None:
        out.append(_ranges_attribute(DOCUMENT_NUMBERS, o.documents))
    if o.pages is not None:
        out.append(_ranges_attribute(PAGES, o.pages))
    return Collection((*out, *o.members))


def _ranges_attribute(name: str, ranges: Ranges) -> Attribute:
    return Attribute.multi(name, Tag.RANGE_OF_INTEGER,
                           [RangeOfInteger(lo, hi) for lo, hi in ranges])
