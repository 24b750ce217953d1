"""Page overrides (PWG 5100.6) on the way out: passed on, or applied here.

A destination whose ``overrides-supported`` lists ``pages`` gets the job's ``overrides``
with the members it lists (``for_destination``); the others are taken out, and a
collection left setting nothing is dropped. ``print-color-mode`` overrides a destination
does not take are applied here (``gray_pages``): the forwarder makes the selected pages
of the job's PDF gray before sending it (``filters.convert.grayscale_pages``), as the
intake priced them (``pipeline.overrides.as_printed``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from ippproxy.filters.detect import PDF
from ippproxy.ipp import Attribute, Collection, Group
from ippproxy.ipp import overrides as pwg

from .formats import Plan, Step

COLOUR_MODE = "print-color-mode"
MONOCHROME = frozenset({"monochrome", "process-monochrome", "bi-level", "process-bi-level",
                        "auto-monochrome"})
ALL_PAGES = (1, 2**31 - 1)


def _listed(printer: Group) -> set[str]:
    a = printer.get("overrides-supported")
    found = {str(v) for v in a.plain} if a is not None else set()
    return found if pwg.PAGES in found else set()


def for_destination(attributes: Sequence[Attribute], printer: Group) -> list[Attribute]:
    """``attributes`` with ``overrides`` cut to what the destination takes."""
    listed = _listed(printer)
    out: list[Attribute] = []
    for a in attributes:
        if a.name != pwg.NAME:
            out.append(a)
            continue
        values = []
        for tag, v in a.values:
            if not isinstance(v, Collection):
                continue
            members = [m for m in v.attributes if m.name in listed]
            if any(m.name not in pwg.SELECTORS for m in members):
                values.append((tag, Collection(tuple(members))))
        if values:
            out.append(Attribute(a.name, tuple(values)))
    return out


def gray_pages(attributes: Sequence[Attribute], printer: Group) -> str:
    """The pages of the job's (first) document to make gray here, as "1-2,5-5"; "" for
    none (no such override, or the destination applies it itself)."""
    if COLOUR_MODE in _listed(printer):
        return ""
    mode = next((a for a in attributes if a.name == COLOUR_MODE), None)
    if mode is not None and mode.value in MONOCHROME:
        return ""                     # the whole job prints monochrome already
    ranges: list[tuple[int, int]] = []
    for o in pwg.find(attributes):
        m = o.member(COLOUR_MODE)
        if m is None or m.value not in MONOCHROME:
            continue
        if o.documents is not None and not any(lo <= 1 <= hi for lo, hi in o.documents):
            continue
        ranges.extend(o.pages if o.pages is not None else (ALL_PAGES,))
    return ",".join(f"{lo}-{hi}" for lo, hi in sorted(ranges))



def with_gray_pages(chosen: Plan, attributes: Sequence[Attribute], printer: Group) -> Plan:
    """``chosen`` with the ``gray_pages`` step first, for a PDF that has such pages."""
    pages = gray_pages(attributes, printer)
    if not pages or chosen.source != PDF or chosen.send_as is None:
        return chosen
    step = Step("grayscale-pages", PDF, (("pages", pages),))
    note = f"pages {pages} to gray (page overrides)"
    return replace(chosen, steps=(step, *chosen.steps),
                   note=f"{note}, {chosen.note}" if chosen.steps else note)
