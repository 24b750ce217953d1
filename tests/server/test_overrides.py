"""Page overrides (PWG 5100.6) over real sockets, with ippeveprinter as the destination.

ippeveprinter advertises ``overrides-supported`` = document-numbers, media, media-col,
orientation-requested, pages: those members are passed on to it with the job; our queue
honours ``print-color-mode`` as well by making the selected pages of the PDF gray itself
(the document ippeveprinter keeps shows it); ``sides`` comes back unsupported. Started
with an attributes file that adds ``print-color-mode`` and ``sides``, it is sent those
too, and the document unchanged.
"""

from __future__ import annotations

import asyncio
import io
from dataclasses import replace
from pathlib import Path

import pikepdf

from ippproxy.config import AccountingConfig, QueueConfig
from ippproxy.filters.analysis import analyse
from ippproxy.ipp import Attribute, Collection, RangeOfInteger, Tag, encode
from ippproxy.ipp import Operation as Op

from .client import Ipp, a, status, value
from .conftest import Started, make_config
from .test_server_flow import wait_state

J = Tag.JOB_ATTRIBUTES
PDF_FMT = a("document-format", Tag.MIME_MEDIA_TYPE, "application/pdf")
COL = Tag.BEGIN_COLLECTION


def _pdf(colours: list[bool]) -> bytes:
    """A4 pages of black text, with a red square on the colour ones."""
    doc = pikepdf.new()
    font = pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1,
                              BaseFont=pikepdf.Name.Helvetica)
    for i, colour in enumerate(colours):
        ops = b"0 g BT /F1 18 Tf 72 720 Td (page %d) Tj ET" % (i + 1)
        ops += b"\n1 0 0 rg 72 500 100 100 re f" if colour else b""
        doc.pages.append(pikepdf.Page(pikepdf.Dictionary(
            Type=pikepdf.Name.Page, MediaBox=[0, 0, 595.28, 841.89],
            Resources=pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font)),
            Contents=pikepdf.Stream(doc, ops))))
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _overrides(*collections: tuple[Attribute, ...]) -> Attribute:
    return Attribute("overrides", tuple((COL, Collection(c)) for c in collections))


def _pages(lo: int, hi: int) -> Attribute:
    return Attribute.single("pages", Tag.RANGE_OF_INTEGER, RangeOfInteger(lo, hi))


def _kw(name: str, v: str) -> Attribute:
    return Attribute.single(name, Tag.KEYWORD, v)


async def _proxy(start_proxy: Started, eve: object, tmp_path: Path) -> Ipp:
    cfg = make_config(tmp_path, queues=(QueueConfig("eve", destination=eve.uri),))  # type: ignore[attr-defined]
    return await start_proxy(replace(cfg, accounting=AccountingConfig(enabled=True,
                                                                        initial_balance="10")))


async def _supported(ipp: Ipp) -> list[object]:
    m = await ipp.call(Op.GET_PRINTER_ATTRIBUTES,
                       a("requested-attributes", Tag.KEYWORD, "overrides-supported",
                         "job-creation-attributes-supported"))
    assert "overrides" in m.get(Tag.PRINTER_ATTRIBUTES,  # type: ignore[union-attr]
                                "job-creation-attributes-supported").plain
    found = m.get(Tag.PRINTER_ATTRIBUTES, "overrides-supported")
    assert found is not None
    return found.plain


async def _kept_document(eve: object, before: set[Path]) -> Path:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while loop.time() < deadline:
        new = [p for p in eve.spooled_files()  # type: ignore[attr-defined]
               if p not in before and p.suffix == ".pdf"]
        if new:
            return new[0]
        await asyncio.sleep(0.1)
    raise AssertionError("ippeveprinter kept no document")


async def test_colour_overrides_applied_here_for_a_printer_without_them(
        start_proxy: Started, ippeveprinter: object, tmp_path: Path) -> None:
    eve = ippeveprinter(formats=("application/pdf",), keep_files=True)  # type: ignore[operator]
    ipp = await _proxy(start_proxy, eve, tmp_path)
    assert await _supported(ipp) == ["document-numbers", "pages", "media", "media-col",
                                     "orientation-requested", "print-color-mode"]
    m = await ipp.call(Op.PRINT_JOB, PDF_FMT, job=[_overrides(
        (_pages(1, 1), _kw("print-color-mode", "monochrome"),
         Attribute.single("orientation-requested", Tag.ENUM, 4)),
        (_pages(2, 2), _kw("sides", "two-sided-long-edge")))],
        data=_pdf([True, True, True]))
    # RFC 8011 §4.1.7: what is ignored comes back in the unsupported group
    assert status(m) == "successful-ok-ignored-or-substituted-attributes"
    refused = m.get(Tag.UNSUPPORTED_ATTRIBUTES, "overrides")
    assert refused is not None
    assert [sorted(c.names()) for c in refused.plain  # type: ignore[union-attr]
            ] == [["pages", "sides"]]
    job_id = value(m, J, "job-id")
    assert isinstance(job_id, int)
    assert await wait_state(ipp, job_id, {7, 8, 9}) == 9
    got = await ipp.call(Op.GET_JOB_ATTRIBUTES, a("job-id", Tag.INTEGER, job_id),
                         a("requested-attributes", Tag.KEYWORD, "job-template",
                           "job-impressions-col"))
    kept = got.get(J, "overrides")
    assert kept is not None and len(kept.values) == 1
    col = kept.value
    assert isinstance(col, Collection) and col.get("pages").value == RangeOfInteger(1, 1)  # type: ignore[union-attr]
    impressions = got.get(J, "job-impressions-col")
    assert isinstance(impressions and impressions.value, Collection)
    assert impressions.value.get("full-color").value == 2  # type: ignore[union-attr]
    [sent] = [p for p in eve.spooled_files() if p.suffix == ".pdf"]  # type: ignore[attr-defined]
    printed = await asyncio.to_thread(analyse, sent, "application/pdf")
    assert printed.pages == 3 and printed.colour_pages == (2, 3)   # page 1 made gray
    col = await _their_overrides(ipp, eve)
    assert sorted(col.names()) == ["orientation-requested", "pages"]


async def _their_overrides(ipp: Ipp, eve: object) -> Collection:
    """The overrides of ippeveprinter's (first) job."""
    theirs = Ipp(ipp.session, f"http://127.0.0.1:{eve.port}", f"127.0.0.1:{eve.port}")  # type: ignore[attr-defined]
    m = await theirs.post(encode(theirs.request(
        Op.GET_JOB_ATTRIBUTES, a("printer-uri", Tag.URI, eve.uri),  # type: ignore[attr-defined]
        a("job-id", Tag.INTEGER, 1), target=False)), "/ipp/print")
    passed = m.get(J, "overrides")
    assert passed is not None and len(passed.values) == 1, m
    assert isinstance(passed.value, Collection)
    return passed.value


async def test_overrides_passed_on_to_a_printer_that_takes_them(
        start_proxy: Started, ippeveprinter: object, tmp_path: Path) -> None:
    """A queue forwarding to a second ippproxy (whose queue forwards to ippeveprinter)
    finds print-color-mode in that printer's overrides-supported: it sends the overrides
    on and the document unchanged; the second one makes the page gray."""
    eve = ippeveprinter(formats=("application/pdf",), keep_files=True)  # type: ignore[operator]
    (tmp_path / "b").mkdir()
    second = await start_proxy(make_config(tmp_path / "b", queues=(
        QueueConfig("eve", destination=eve.uri),)))                     # type: ignore[attr-defined]
    first_cfg = make_config(tmp_path, queues=(QueueConfig("chain",
                                                          destination=second.printer_uri),))
    ipp = await start_proxy(replace(first_cfg, accounting=AccountingConfig(
        enabled=True, initial_balance="10")))
    supported = await _supported(ipp)
    assert "print-color-mode" in supported and "pages" in supported
    m = await ipp.call(Op.PRINT_JOB, PDF_FMT, job=[_overrides(
        (_pages(1, 1), _kw("print-color-mode", "monochrome")))], data=_pdf([True, True]))
    assert status(m) == "successful-ok", m
    job_id = value(m, J, "job-id")
    assert isinstance(job_id, int)
    assert await wait_state(ipp, job_id, {7, 8, 9}) == 9
    got = await second.call(Op.GET_JOB_ATTRIBUTES, a("job-id", Tag.INTEGER, 1),
                            a("requested-attributes", Tag.KEYWORD, "overrides",
                              "job-state-message"))
    passed = got.get(J, "overrides")
    assert passed is not None, got
    assert isinstance(passed.value, Collection)
    assert sorted(passed.value.names()) == ["pages", "print-color-mode"]
    assert "to gray" in str(value(got, J, "job-state-message"))        # done there
    ours = await ipp.call(Op.GET_JOB_ATTRIBUTES, a("job-id", Tag.INTEGER, job_id),
                          a("requested-attributes", Tag.KEYWORD, "job-state-message"))
    assert "to gray" not in str(value(ours, J, "job-state-message"))   # not here
    sent = await _kept_document(eve, set())
    printed = await asyncio.to_thread(analyse, sent, "application/pdf")
    assert printed.colour_pages == (2,)                 # made gray by the second one
