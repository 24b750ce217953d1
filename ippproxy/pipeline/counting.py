"""A job's counts: the ticket from its IPP attributes, the filters' PWG counts, and the
accounting figures a cost model prices.

The ticket comes from the accepted job-template attributes (RFC 8011 §5.2: ``copies``,
``sides``, ``number-up``, ``page-ranges``, ``media`` / ``media-col.media-size-name``).
Counting is ``ippproxy.filters.counts`` (PWG 5100.7 job-impressions, job-media-sheets,
their ``-col`` variants); here the per-media figures become
``ippproxy.accounting.JobCounts`` (monochrome and colour impressions, sheets, copies
included) and the attributes Get-Job-Attributes shows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from ippproxy.accounting import JobCounts, MediaCount
from ippproxy.filters import counts as pwg
from ippproxy.filters.model import DocumentAnalysis
from ippproxy.ipp import Attribute, Collection, RangeOfInteger, Tag

TWO_SIDED = "two-sided-long-edge"


def _value(attrs: dict[str, Attribute], name: str) -> object:
    a = attrs.get(name)
    return None if a is None else a.value


def ticket(attributes: Iterable[Attribute]) -> pwg.JobTicket:
    """The counting ticket of a job; values the filters cannot use fall back to defaults."""
    attrs = {a.name: a for a in attributes}
    copies = _value(attrs, "copies")
    sides = _value(attrs, "sides")
    number_up = _value(attrs, "number-up")
    ranges: list[tuple[int, int]] = []
    pr = attrs.get("page-ranges")
    if pr is not None:
        for _, v in pr.values:
            if isinstance(v, RangeOfInteger) and 1 <= v.lower <= v.upper:
                ranges.append((v.lower, v.upper))
    media = _value(attrs, "media")
    col = _value(attrs, "media-col")
    if isinstance(col, Collection):
        size_name = col.get("media-size-name")
        if size_name is not None and isinstance(size_name.value, str):
            media = size_name.value
    return pwg.JobTicket(
        copies=copies if isinstance(copies, int) and copies >= 1 else 1,
        sides=sides if isinstance(sides, str) and sides in pwg.SIDES else "one-sided",
        number_up=number_up if isinstance(number_up, int) and number_up >= 1 else 1,
        page_ranges=tuple(sorted(ranges)),
        media=media if isinstance(media, str) and media else pwg.DEFAULT_MEDIA)


def count(analyses: Sequence[DocumentAnalysis], t: pwg.JobTicket,
          grayscale: bool = False) -> pwg.JobCounts | None:
    """PWG counts of the whole job; None when a document's page count is unknown.

    ``grayscale``: the job prints without colour (converted, or print-color-mode
    monochrome forced), so every page counts as monochrome.
    """
    out = []
    for a in analyses:
        if grayscale:
            a = replace(a, colour_pages=())
        c = pwg.count_document(a, t)
        if c is None:
            return None
        out.append(c)
    return pwg.combine(out)


def job_counts(c: pwg.JobCounts) -> JobCounts:
    """What a cost model prices: per media, mono and colour impressions, sheets, and the
    mono and colour impressions on two-sided sheets (the layout ``pwg.count_document``
    computed). Unknown colour is priced as colour (never undercharged)."""
    per_media = []
    for m in c.per_media:
        unknown = m.impressions_col is None or m.duplexed_col is None
        colour = m.impressions if unknown or m.impressions_col is None else m.impressions_col
        colour_d = m.duplexed if unknown or m.duplexed_col is None else m.duplexed_col
        per_media.append(MediaCount(m.media, m.impressions - colour, colour, m.sheets,
                                    m.duplexed - colour_d, colour_d))
    return JobCounts(tuple(per_media))


def counts_json(c: JobCounts) -> list[list[str | int]]:
    """What a cost model prices, kept in the job's analysis (a moved job is priced again
    from it): per media, [media, mono, colour, sheets, mono two-sided, colour two-sided]."""
    return [[m.media, m.mono, m.color, m.sheets, m.mono_duplexed or 0, m.color_duplexed or 0]
            for m in c.per_media]


def counts_from_json(analysis: Mapping[str, Any] | None) -> JobCounts | None:
    """``counts_json`` read back from a job's analysis; None when it has none (a job whose
    pages could not be counted, or one from before the counts were kept)."""
    raw = (analysis or {}).get("counts")
    if not isinstance(raw, list):
        return None
    per_media = []
    for item in raw:
        if not (isinstance(item, list) and len(item) == 6 and isinstance(item[0], str)
                and all(type(n) is int and n >= 0 for n in item[1:])):
            return None
        try:
            per_media.append(MediaCount(item[0], *item[1:]))
        except ValueError:
            return None
    return JobCounts(tuple(per_media))


def ipp_attributes(c: pwg.JobCounts) -> dict[str, int]:
    """PWG 5100.7 / 5100.11 Job Description attributes: job-pages (one copy of the
    selected pages), job-impressions(-col) and job-media-sheets(-col)."""
    return {"job-pages": c.pages, **c.ipp_attributes()}


def analysis_json(a: DocumentAnalysis) -> dict[str, Any]:
    return {"format": a.format, "pages": a.pages,
            "colour_pages": None if a.colour_pages is None else list(a.colour_pages),
            "media": sorted({s.media for s in a.page_sizes}),
            "methods": list(a.methods), "notes": list(a.notes),
            "seconds": round(a.seconds, 4)}


def overrides(grayscale: bool, duplex: bool) -> tuple[Attribute, ...]:
    """Job-template attributes that carry a forced option to the destination."""
    out = []
    if grayscale:
        out.append(Attribute.single("print-color-mode", Tag.KEYWORD, "monochrome"))
    if duplex:
        out.append(Attribute.single("sides", Tag.KEYWORD, TWO_SIDED))
    return tuple(out)
