"""Page overrides on the way out (forwarding/page_overrides.py): what a destination is sent,
and which pages are made gray here."""

from __future__ import annotations

from ippproxy.filters.detect import PDF, PWG_RASTER
from ippproxy.forwarding.formats import Plan, Step
from ippproxy.forwarding.page_overrides import for_destination, gray_pages, with_gray_pages
from ippproxy.ipp import Attribute, Collection, Group, RangeOfInteger, Tag


def _printer(*listed: str) -> Group:
    attrs = (Attribute.multi("overrides-supported", Tag.KEYWORD, list(listed)),) if listed \
        else ()
    return Group(Tag.PRINTER_ATTRIBUTES, attrs)


def _col(lo: int, hi: int, *members: Attribute, docs: tuple[int, int] | None = None
         ) -> tuple[int, Collection]:
    sel = [Attribute.single("pages", Tag.RANGE_OF_INTEGER, RangeOfInteger(lo, hi))]
    if docs is not None:
        sel.insert(0, Attribute.single("document-numbers", Tag.RANGE_OF_INTEGER,
                                       RangeOfInteger(*docs)))
    return Tag.BEGIN_COLLECTION, Collection((*sel, *members))


MONO = Attribute.single("print-color-mode", Tag.KEYWORD, "monochrome")
SIDES = Attribute.single("sides", Tag.KEYWORD, "two-sided-long-edge")
JOB = (Attribute.single("copies", Tag.INTEGER, 1),
       Attribute("overrides", (_col(1, 2, MONO, SIDES), _col(4, 4, SIDES),
                               _col(6, 7, MONO, docs=(2, 2)))))


def test_a_printer_gets_only_the_members_it_lists() -> None:
    assert [a.name for a in for_destination(JOB, _printer())] == ["copies"]
    assert [a.name for a in for_destination(JOB, _printer("pages", "media"))] == ["copies"]
    [_, sent] = for_destination(JOB, _printer("document-numbers", "pages", "sides"))
    cols = [v for v in sent.plain if isinstance(v, Collection)]
    assert [c.names() for c in cols] == [["pages", "sides"], ["pages", "sides"]]
    # without "pages" in its list a printer takes no overrides at all
    assert [a.name for a in for_destination(JOB, _printer("sides"))] == ["copies"]


def test_gray_pages_of_the_first_document_unless_the_printer_does_it() -> None:
    assert gray_pages(JOB, _printer("document-numbers", "pages")) == "1-2"
    assert gray_pages(JOB, _printer("pages", "print-color-mode")) == ""
    job_mono = (*JOB, MONO)
    assert gray_pages(job_mono, _printer()) == ""          # all of it is monochrome already


def test_the_gray_step_comes_first_for_a_pdf_only() -> None:
    raster = Plan(PDF, PWG_RASTER, (Step("pwg-raster", PWG_RASTER),), "to PWG raster")
    chosen = with_gray_pages(raster, JOB, _printer())
    assert [s.kind for s in chosen.steps] == ["grayscale-pages", "pwg-raster"]
    assert chosen.steps[0].kwargs == {"pages": "1-2"}
    as_is = Plan(PDF, PDF, (), "application/pdf sent as application/pdf")
    assert with_gray_pages(as_is, JOB, _printer()).note == "pages 1-2 to gray (page overrides)"
    ps = Plan("application/postscript", PDF, (Step("ps-to-pdf", PDF),), "to PDF")
    assert with_gray_pages(ps, JOB, _printer()) == ps
