"""Impressions and sheets: copies, sides, number-up, page-ranges, media, colour."""

from __future__ import annotations

import pytest

from ippproxy.filters.counts import JobTicket, combine, count_document
from ippproxy.filters.model import DocumentAnalysis, PageSize

LETTER, A4, A3 = PageSize(612, 792), PageSize(595.28, 841.89), PageSize(841.89, 1190.55)


def doc(pages: int, colour: tuple[int, ...] | None = (),
        sizes: tuple[PageSize, ...] | None = None) -> DocumentAnalysis:
    return DocumentAnalysis("application/pdf", pages, sizes or (A4,) * pages, colour)


@pytest.mark.parametrize("pages,ticket,imps,sheets", [
    (5, JobTicket(), 5, 5),
    (5, JobTicket(copies=3), 5, 15),
    (5, JobTicket(sides="two-sided-long-edge"), 5, 3),          # odd: last sheet one-sided
    (5, JobTicket(sides="two-sided-short-edge", copies=2), 5, 6),
    (4, JobTicket(sides="two-sided-long-edge"), 4, 2),
    (5, JobTicket(number_up=2), 3, 3),
    (9, JobTicket(number_up=4, sides="two-sided-long-edge"), 3, 2),
    (10, JobTicket(page_ranges=((2, 4), (8, 20))), 6, 6),
    (10, JobTicket(page_ranges=((2, 4),), number_up=2, copies=2), 2, 4),
    (1, JobTicket(sides="two-sided-long-edge", copies=3), 1, 3),
])
def test_counts(pages: int, ticket: JobTicket, imps: int, sheets: int) -> None:
    c = count_document(doc(pages), ticket)
    assert c is not None
    assert (c.job_impressions, c.job_media_sheets) == (imps, sheets)
    assert c.impressions_total == imps * ticket.copies
    assert c.job_impressions_col == 0 and c.job_media_sheets_col == 0


def test_blue_header_is_one_colour_impression() -> None:
    c = count_document(doc(21, (1,)), JobTicket(copies=2))
    assert c is not None
    assert (c.job_impressions, c.job_impressions_col) == (21, 1)
    assert (c.job_media_sheets, c.job_media_sheets_col) == (42, 2)
    assert c.ipp_attributes() == {"job-impressions": 21, "job-impressions-col": 1,
                                  "job-media-sheets": 42, "job-media-sheets-col": 2}


def test_colour_with_duplex_and_nup() -> None:
    # pages 1..8, colour on 3: 2-up -> impressions (1,2)(3,4)(5,6)(7,8); colour imp #2
    c = count_document(doc(8, (3,)), JobTicket(number_up=2, sides="two-sided-long-edge"))
    assert c is not None
    assert (c.job_impressions, c.job_impressions_col) == (4, 1)
    assert (c.job_media_sheets, c.job_media_sheets_col) == (2, 1)


def test_impressions_on_two_sided_sheets() -> None:
    # 3 pages two-sided, colour page 3 alone on its sheet: 2 two-sided impressions, mono.
    c = count_document(doc(3, (3,)), JobTicket(sides="two-sided-long-edge", copies=2))
    assert c is not None
    (m,) = c.per_media
    assert (m.duplexed, m.duplexed_col, m.impressions_col) == (4, 0, 2)
    # Colour page 1 shares sheet 1 with page 2: discounted.
    c = count_document(doc(3, (1,)), JobTicket(sides="two-sided-long-edge"))
    assert c is not None and (c.per_media[0].duplexed, c.per_media[0].duplexed_col) == (2, 1)
    # A media change leaves colour A4 page 1 alone on its sheet, A3 page 2 too; A4 pages
    # 3-4 pair up (colour 4 discounted), page 5 is alone at the end.
    sizes = (A4, A3, A4, A4, A4)
    c = count_document(doc(5, (1, 4), sizes), JobTicket(sides="two-sided-long-edge"))
    assert c is not None
    per = {m.media: (m.duplexed, m.duplexed_col) for m in c.per_media}
    assert per == {"iso_a4_210x297mm": (2, 1), "iso_a3_297x420mm": (0, 0)}
    # Unknown colour: unknown on two-sided sheets too.
    c = count_document(doc(4, None), JobTicket(sides="two-sided-long-edge"))
    assert c is not None and (c.per_media[0].duplexed, c.per_media[0].duplexed_col) == (4, None)


def test_media_change_starts_a_new_sheet() -> None:
    sizes = (A4, A4, A3, A4, LETTER)
    c = count_document(doc(5, (3,), sizes), JobTicket(sides="two-sided-long-edge"))
    assert c is not None
    per = {m.media: m for m in c.per_media}
    assert per["iso_a4_210x297mm"].sheets == 2 and per["iso_a4_210x297mm"].impressions == 3
    assert per["iso_a3_297x420mm"].sheets_col == 1
    assert per["na_letter_8.5x11in"].sheets == 1
    assert c.job_media_sheets == 4


def test_unknowns_are_explicit() -> None:
    assert count_document(DocumentAnalysis("application/vnd.hp-pcl", None)) is None
    c = count_document(doc(3, None))
    assert c is not None and c.job_impressions_col is None
    assert "job-impressions-col" not in c.ipp_attributes()


def test_images_use_the_job_media() -> None:
    img = DocumentAnalysis("image/jpeg", 1, (), (1,))
    c = count_document(img, JobTicket(media="na_letter_8.5x11in"))
    assert c is not None and c.per_media[0].media == "na_letter_8.5x11in"


def test_combine_documents() -> None:
    a = count_document(doc(3, (1,)), JobTicket(sides="two-sided-long-edge"))
    b = count_document(doc(1), JobTicket(sides="two-sided-long-edge"))
    assert a is not None and b is not None
    t = combine([a, b])
    assert (t.job_impressions, t.job_media_sheets, t.job_media_sheets_col) == (4, 3, 1)


@pytest.mark.parametrize("kwargs", [{"copies": 0}, {"sides": "both"}, {"number_up": 0},
                                    {"page_ranges": ((3, 2),)}, {"page_ranges": ((0, 2),)}])
def test_bad_tickets(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        JobTicket(**kwargs)  # type: ignore[arg-type]
