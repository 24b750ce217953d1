"""Page overrides (PWG 5100.6) at intake: what a queue honours, the check of a job's
``overrides`` against it, and the colour each page prints in for the price.

Theory of operation
-------------------
What a queue honours (``supported``, its ``overrides-supported``): the selectors
``document-numbers`` and ``pages``; ``print-color-mode``, which the forwarder applies itself
when the destination does not (a PDF's selected pages are made gray before it is sent,
``forwarding.pages_gray``); and, when the destination's own ``overrides-supported``
lists ``pages``, those of ``media``, ``media-col``, ``sides``, ``orientation-requested``
it lists too (passed on with the job). Nothing else: what we cannot make the printer do,
we do not claim.

``check`` splits a job's ``overrides`` like any Job Template attribute (RFC 8011 §4.1.7,
PWG 5100.6 §4): more than ``MAX_COLLECTIONS`` collections are unsupported together; a
collection whose selectors are not valid ranges (or more than ``MAX_RANGES``), that sets
nothing, or that selects a page an earlier one selects (which value wins would be a guess)
is unsupported as a whole; a member the queue does not honour, or whose value its
``<name>-supported`` does not list, is taken out of the collection and returned in the
unsupported one (beside the collection's selectors). The caller answers
``successful-ok-ignored-or-substituted-attributes``, or refuses with fidelity.

``priced_ticket``: a ``sides`` override that differs from the job's ``sides`` is priced as
one-sided (no duplex discount: a cost model's discount only lowers a price, so the price
is never below what prints). Media is priced from the document's page sizes, as for the
job's own ``media``. ``without`` takes the members a rule forces (force-grayscale,
force-duplex) out of the job's overrides, so that no page escapes it.

``as_printed`` is "price what actually prints, page by page": a colour page of a PDF that an
override prints monochrome (or a monochrome job's page an override prints in colour) is
counted as it will print. Other formats cannot be changed page by page here, so their
pages are counted as the job's ``print-color-mode`` prints them (a destination that
applies the override itself may then print less colour than was priced; never more).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from ippproxy.filters import counts as pwg_counts
from ippproxy.filters import detect
from ippproxy.filters.model import DocumentAnalysis
from ippproxy.ipp import Attribute, Collection, Tag
from ippproxy.ipp import overrides as pwg
from ippproxy.pipeline import template

COLOUR_MODE = "print-color-mode"
# Members passed on to a destination whose overrides-supported lists them.
PASSED_ON = ("media", "media-col", "orientation-requested", "sides")
# Priced monochrome (as metering.MONOCHROME: "auto-monochrome" stays priced as it prints
# when the printer's choice is unknown, colour pages as colour).
MONOCHROME = frozenset({"monochrome", "process-monochrome", "bi-level", "process-bi-level"})
_SUPPORTED = "overrides-supported"
# Bounds on what one job may ask (the overlap check is quadratic; a client could send
# tens of thousands of values within the decoder's limits): more is unsupported.
MAX_COLLECTIONS = 32
MAX_RANGES = 32


def supported(destination: Sequence[Attribute] | None) -> tuple[str, ...]:
    """The queue's ``overrides-supported`` (PWG 5100.6 §5.1) for a destination with
    these printer attributes."""
    theirs: set[object] = set()
    for a in destination or ():
        if a.name == _SUPPORTED:
            theirs = set(a.plain)
    native = [m for m in PASSED_ON if pwg.PAGES in theirs and m in theirs]
    return (pwg.DOCUMENT_NUMBERS, pwg.PAGES, *native, COLOUR_MODE)


def _collection(members: Iterable[Attribute]) -> tuple[int, Collection]:
    return Tag.BEGIN_COLLECTION, Collection(tuple(members))


def check(attr: Attribute, printer: Mapping[str, Attribute]
          ) -> tuple[Attribute | None, Attribute | None]:
    """(kept, unsupported) parts of a job's ``overrides``; either may be None."""
    honoured_attr = printer.get(_SUPPORTED)
    honoured = {str(v) for v in honoured_attr.plain} if honoured_attr is not None else set()
    kept: list[tuple[int, Collection]] = []
    taken: list[pwg.PageOverride] = []
    refused: list[tuple[int, Collection]] = []
    if len(attr.values) > MAX_COLLECTIONS:
        return None, attr
    for tag, value in attr.values:
        try:
            o = pwg.parse_one(value)
            if any(len(r or ()) > MAX_RANGES for r in (o.documents, o.pages)):
                raise pwg.OverrideError("too many ranges")
        except pwg.OverrideError:
            refused.append((tag, value) if isinstance(value, Collection)
                           else _collection(()))
            continue
        good = [m for m in o.members if m.name in honoured and m.name not in pwg.SELECTORS
                and all(template.value_ok(m.name, t, v, printer) for t, v in m.values)]
        bad = [m for m in o.members if m not in good]
        selectors = pwg.as_collection(replace(o, members=())).attributes
        if not good or pwg.PAGES not in honoured or any(o.overlaps(t) for t in taken):
            refused.append(_collection((*selectors, *o.members)))
            continue
        kept.append(_collection((*selectors, *good)))
        taken.append(o)
        if bad:
            refused.append(_collection((*selectors, *bad)))
    return (Attribute(attr.name, tuple(kept)) if kept else None,
            Attribute(attr.name, tuple(refused)) if refused else None)


def _mode_of(a: Attribute | None) -> str | None:
    return a.value if a is not None and isinstance(a.value, str) else None


def as_printed(analyses: Sequence[DocumentAnalysis], attributes: Iterable[Attribute]
               ) -> tuple[DocumentAnalysis, ...]:
    """``analyses`` with each document's colour pages as they will print: the job's
    ``print-color-mode``, and on a PDF the ``print-color-mode`` overrides."""
    attrs = list(attributes)
    job_mode = _mode_of(next((a for a in attrs if a.name == COLOUR_MODE), None))
    job_mono = job_mode in MONOCHROME
    found = pwg.find(attrs)
    out = []
    for number, a in enumerate(analyses, start=1):
        if not found or a.format != detect.PDF or a.colour_pages is None:
            out.append(replace(a, colour_pages=()) if job_mono else a)
            continue
        colour = tuple(p for p in a.colour_pages
                       if (_mode_of(pwg.value_at(found, COLOUR_MODE, number, p))
                           or job_mode) not in MONOCHROME)
        out.append(replace(a, colour_pages=colour))
    return tuple(out)


def priced_ticket(ticket: pwg_counts.JobTicket, attributes: Iterable[Attribute]
                  ) -> pwg_counts.JobTicket:
    """``ticket`` as priced: one-sided when an override changes ``sides`` on some pages."""
    for o in pwg.find(attributes):
        m = o.member("sides")
        if m is not None and m.value != ticket.sides:
            return replace(ticket, sides="one-sided")
    return ticket


def without(attr: Attribute, names: frozenset[str]) -> Attribute | None:
    """``attr`` (the job's overrides) without the members ``names``; collections left
    setting nothing are dropped; None when none is left."""
    values = []
    for tag, v in attr.values:
        if not isinstance(v, Collection):
            continue
        members = [m for m in v.attributes if m.name not in names]
        if any(m.name not in pwg.SELECTORS for m in members):
            values.append((tag, Collection(tuple(members))))
    return Attribute(attr.name, tuple(values)) if values else None
