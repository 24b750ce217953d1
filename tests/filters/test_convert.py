"""Conversions produce what they promise (verified by analysing their output)."""

from __future__ import annotations

from pathlib import Path

import corpus
import pytest

from ippproxy.filters import convert, text
from ippproxy.filters.analysis import analyse
from ippproxy.filters.errors import AnalysisError, FormatError


def test_grayscale_removes_every_colour_page(cases: dict[str, corpus.Case], tmp_path: Path) -> None:
    for name in ("blue-header-1-of-21", "colour-image", "ps-small-colour-mark"):
        out = tmp_path / f"{name}-gray.pdf"
        convert.to_grayscale_pdf(cases[name].path, out)
        a = analyse(out, "application/pdf")
        assert a.pages == cases[name].pages and a.colour_pages == (), name


def test_ps_duplex_injection(cases: dict[str, corpus.Case], tmp_path: Path) -> None:
    out = tmp_path / "duplex.ps"
    convert.ps_set_duplex(cases["ps-blue-header"].path, out)
    data = out.read_bytes()
    assert b"<< /Duplex true /Tumble false >> setpagedevice" in data
    assert data.index(b"%%BeginFeature") > data.index(b"%%Pages")    # after the header comments
    a = analyse(out, "application/postscript")
    assert (a.pages, a.colour_pages) == (21, (1,))


def test_pdf_to_pwg_and_urf(cases: dict[str, corpus.Case], tmp_path: Path) -> None:
    src = cases["colour-every-third"].path
    convert.to_pwg_raster(src, tmp_path / "o.pwg", dpi=30)
    convert.to_urf(src, tmp_path / "o.urf", dpi=30)
    convert.to_urf(src, tmp_path / "g.urf", dpi=30, colour=False)
    for name, fmt, colour in (("o.pwg", "image/pwg-raster", (3, 6)), ("o.urf", "image/urf", (3, 6)),
                              ("g.urf", "image/urf", ())):
        a = analyse(tmp_path / name, fmt)
        assert (a.pages, a.colour_pages) == (7, colour), name


def test_ps_to_pdf(cases: dict[str, corpus.Case], tmp_path: Path) -> None:
    convert.ps_to_pdf(cases["ps-small-colour-mark"].path, tmp_path / "o.pdf")
    a = analyse(tmp_path / "o.pdf", "application/pdf")
    assert (a.pages, a.colour_pages) == (2, (2,))


def test_text_to_pdf_matches_the_count(tmp_path: Path) -> None:
    body = "\n".join(f"line {i} " + "x" * (i % 150) for i in range(200)) + "\fpage\n\f"
    src = tmp_path / "t.txt"
    src.write_text(body)
    convert.text_to_pdf(src, tmp_path / "t.pdf")
    n = text.count(body)
    assert analyse(src, "text/plain").pages == n
    a = analyse(tmp_path / "t.pdf", "application/pdf")
    assert (a.pages, a.colour_pages) == (n, ())


def test_failed_conversion_leaves_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ps"
    bad.write_bytes(b"%!PS\n(%pipe%id) (w) file\n")
    out = tmp_path / "out.pdf"
    with pytest.raises(FormatError):
        convert.ps_to_pdf(bad, out)
    assert list(tmp_path.iterdir()) == [bad]


def test_grayscale_pages_changes_only_the_chosen_pages(cases: dict[str, corpus.Case],
                                                       tmp_path: Path) -> None:
    """PWG 5100.6 print-color-mode overrides applied here: colour pages 3 and 6 of 6; pages
    1-3 made gray leave page 6 in colour and every page there."""
    src = cases["colour-every-third"].path
    out = tmp_path / "pages.pdf"
    convert.grayscale_pages(src, out, pages="1-3,100-200")
    a = analyse(out, "application/pdf")
    assert (a.pages, a.colour_pages) == (analyse(src, "application/pdf").pages, (6,))


@pytest.mark.parametrize("spec", ["", "0-1", "3-1", "1-x", "1"])
def test_grayscale_pages_refuses_a_bad_range(tmp_path: Path, spec: str,
                                            cases: dict[str, corpus.Case]) -> None:
    with pytest.raises(AnalysisError):
        convert.grayscale_pages(cases["colour-every-third"].path, tmp_path / "o.pdf",
                                pages=spec)
    assert not (tmp_path / "o.pdf").exists()
