"""Impressions and sheets of a job from its analysed pages (pure functions, no money).

An *impression* is one side of a sheet with its imposed pages; a *sheet* is
one piece of media.  For one copy of a document:

1. the pages selected by ``page-ranges`` (RFC 8011 job template attribute;
   1-based, normalised to ascending non-overlapping ranges) are laid
   ``number-up`` to an impression, in order; an impression is colour when any
   page on it is colour, and takes the media of its first page;
2. ``sides`` one-sided: one impression per sheet; two-sided-*: impressions
   pair onto sheets, except that a change of media starts a new sheet and an
   odd impression leaves the last sheet single-sided; a sheet is colour when
   either side is; a sheet with both sides printed is *two-sided*, and the
   impressions on it are counted per media (``MediaCount.duplexed`` and its
   colour part ``duplexed_col``: what a duplex discount applies to);
3. each copy starts on a new sheet, so the per-copy figures multiply.

The PWG job accounting attributes follow their definitions:
``job-impressions`` and ``job-impressions-col`` exclude ``copies`` (RFC 8011,
"job-impressions": "MUST NOT include the multiplicative factors contributed
by the number of copies"), ``job-media-sheets`` and ``job-media-sheets-col``
include them; ``impressions_total`` (copies included) is what prints and what
a charge is based on.  Colour figures are None when colour is unknown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ippproxy.filters.model import DocumentAnalysis

SIDES = ("one-sided", "two-sided-long-edge", "two-sided-short-edge")
NUMBER_UP = (1, 2, 4, 6, 9, 16)
DEFAULT_MEDIA = "iso_a4_210x297mm"


@dataclass(frozen=True)
class JobTicket:
    copies: int = 1
    sides: str = "one-sided"
    number_up: int = 1
    page_ranges: tuple[tuple[int, int], ...] = ()
    media: str = DEFAULT_MEDIA    # for documents without page sizes (images, PCL 5)

    def __post_init__(self) -> None:
        if self.copies < 1:
            raise ValueError("copies must be at least 1")
        if self.sides not in SIDES:
            raise ValueError(f"unsupported sides {self.sides!r}")
        if self.number_up < 1:
            raise ValueError("number-up must be at least 1")
        for lo, hi in self.page_ranges:
            if not 1 <= lo <= hi:
                raise ValueError(f"bad page range {lo}-{hi}")


@dataclass(frozen=True)
class MediaCount:
    media: str
    impressions: int          # copies included
    impressions_col: int | None
    sheets: int
    sheets_col: int | None
    duplexed: int                   # impressions on two-sided sheets, copies included
    duplexed_col: int | None        # the colour ones among them


@dataclass(frozen=True)
class JobCounts:
    pages: int                          # selected pages of one copy
    job_impressions: int                # one copy
    job_impressions_col: int | None
    job_media_sheets: int               # all copies
    job_media_sheets_col: int | None
    impressions_total: int              # all copies
    impressions_col_total: int | None
    per_media: tuple[MediaCount, ...]

    def ipp_attributes(self) -> dict[str, int]:
        """Job Description attributes by spec name (colour ones omitted when unknown)."""
        out = {"job-impressions": self.job_impressions,
               "job-media-sheets": self.job_media_sheets}
        if self.job_impressions_col is not None and self.job_media_sheets_col is not None:
            out["job-impressions-col"] = self.job_impressions_col
            out["job-media-sheets-col"] = self.job_media_sheets_col
        return out


def selected_pages(page_count: int, ranges: Sequence[tuple[int, int]]) -> list[int]:
    if not ranges:
        return list(range(1, page_count + 1))
    chosen: set[int] = set()
    for lo, hi in ranges:
        chosen.update(range(lo, min(hi, page_count) + 1))
    return sorted(chosen)


def count_document(analysis: DocumentAnalysis, ticket: JobTicket = JobTicket()) -> JobCounts | None:
    """The counts of one document, or None when its page count is unknown."""
    if analysis.pages is None:
        return None
    sizes = analysis.page_sizes
    media = [s.media for s in sizes] if len(sizes) == analysis.pages else \
        [ticket.media] * analysis.pages
    colour = set(analysis.colour_pages or ())
    known = analysis.colour_pages is not None
    pages = selected_pages(analysis.pages, ticket.page_ranges)
    # Impressions of one copy: (media, colour).
    imps: list[tuple[str, bool]] = []
    for i in range(0, len(pages), ticket.number_up):
        group = pages[i:i + ticket.number_up]
        imps.append((media[group[0] - 1], any(p in colour for p in group)))
    # Sheets of one copy: (media, colour); impressions on two-sided sheets: (media, colour).
    sheets: list[tuple[str, bool]] = []
    two_sided: list[tuple[str, bool]] = []
    duplex = ticket.sides != "one-sided"
    i = 0
    while i < len(imps):
        m, c = imps[i]
        if duplex and i + 1 < len(imps) and imps[i + 1][0] == m:
            two_sided += imps[i:i + 2]
            c = c or imps[i + 1][1]
            i += 1
        sheets.append((m, c))
        i += 1
    n = ticket.copies
    per_media = []
    for name in sorted({m for m, _ in imps}):
        mi = [c for m, c in imps if m == name]
        ms = [c for m, c in sheets if m == name]
        md = [c for m, c in two_sided if m == name]
        per_media.append(MediaCount(name, len(mi) * n, sum(mi) * n if known else None,
                                    len(ms) * n, sum(ms) * n if known else None,
                                    len(md) * n, sum(md) * n if known else None))
    imp_col = sum(c for _, c in imps)
    sheet_col = sum(c for _, c in sheets)
    return JobCounts(
        pages=len(pages), job_impressions=len(imps),
        job_impressions_col=imp_col if known else None,
        job_media_sheets=len(sheets) * n,
        job_media_sheets_col=sheet_col * n if known else None,
        impressions_total=len(imps) * n,
        impressions_col_total=imp_col * n if known else None,
        per_media=tuple(per_media))


def _add(a: int | None, b: int | None) -> int | None:
    return None if a is None or b is None else a + b


def combine(counts: Sequence[JobCounts]) -> JobCounts:
    """A multi-document job: documents start on new sheets, so figures add up."""
    if not counts:
        return JobCounts(0, 0, 0, 0, 0, 0, 0, ())
    total = counts[0]
    for c in counts[1:]:
        merged: dict[str, MediaCount] = {m.media: m for m in total.per_media}
        for m in c.per_media:
            o = merged.get(m.media)
            merged[m.media] = m if o is None else MediaCount(
                m.media, o.impressions + m.impressions, _add(o.impressions_col, m.impressions_col),
                o.sheets + m.sheets, _add(o.sheets_col, m.sheets_col),
                o.duplexed + m.duplexed, _add(o.duplexed_col, m.duplexed_col))
        total = JobCounts(
            total.pages + c.pages, total.job_impressions + c.job_impressions,
            _add(total.job_impressions_col, c.job_impressions_col),
            total.job_media_sheets + c.job_media_sheets,
            _add(total.job_media_sheets_col, c.job_media_sheets_col),
            total.impressions_total + c.impressions_total,
            _add(total.impressions_col_total, c.impressions_col_total),
            tuple(merged[k] for k in sorted(merged)))
    return total
