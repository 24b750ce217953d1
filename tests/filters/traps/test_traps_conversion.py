"""Conversions keep the print state; inspect reports the traps; images decode once, lazily."""

from __future__ import annotations

import json
from pathlib import Path

import pikepdf
import pytest
import traps

from ippproxy.filters import convert, ghostscript, image_colour, pdfscan
from ippproxy.filters.analysis import analyse
from ippproxy.filters.inspect import main as inspect_main


@pytest.fixture(scope="session")
def trap_docs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, traps.Trap]:
    return traps.built_once(tmp_path_factory)


def _inked_pages(path: Path) -> list[int]:
    """Pages of a PDF on which anything at all prints (Ghostscript, print settings)."""
    return [n for n, (_, _, px) in enumerate(
        ghostscript.render_pages(path, dpi=36, prologue=("-dPrinted",)), start=1)
        if px.count(b"\xff") != len(px)]


def test_grayscale_conversion_prints_the_print_state(trap_docs: dict[str, traps.Trap],
                                                     tmp_path: Path) -> None:
    """A print-only layer is still printed after conversion, a screen-only one still not
    (Ghostscript's pdfwrite alone flattens by the view state: pages 1 and 14 would print
    the screen-only layer, pages 2 and 15 would lose the print-only one)."""
    t = trap_docs["layers"]
    out = tmp_path / "gray.pdf"
    convert.to_grayscale_pdf(t.path, out)
    a = analyse(out, "application/pdf")
    assert (a.pages, a.colour_pages) == (t.pages, ())
    black_text_page = 17
    assert _inked_pages(out) == sorted((*t.colour, black_text_page))


def test_raster_conversion_prints_the_print_state(trap_docs: dict[str, traps.Trap],
                                                  tmp_path: Path) -> None:
    for name in ("layers", "layers-usage-without-as"):
        t = trap_docs[name]
        out = tmp_path / f"{name}.pwg"
        convert.to_pwg_raster(t.path, out, dpi=30)
        a = analyse(out, "image/pwg-raster")
        assert (a.pages, a.colour_pages) == (t.pages, t.colour), name


def test_inspect_reports_the_traps(trap_docs: dict[str, traps.Trap],
                                   capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("vector", "lying-count"):
        t = trap_docs[name]
        assert inspect_main([str(t.path), "--json"]) == 0
        r = json.loads(capsys.readouterr().out)
        assert (r["pages"], r["colour-pages"]) == (t.pages, list(t.colour)), name
    assert any("/Count says 2000000000" in n for n in r["notes"])


def test_an_image_on_many_pages_is_decoded_once(trap_docs: dict[str, traps.Trap],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """40 pages show one XObject: judged once; the page already colour from a vector
    fill leaves its large image undecoded."""
    judged: list[tuple[int, int]] = []
    real = image_colour.judge

    def counting(xobj: pikepdf.Object, *args: object) -> bool:
        judged.append((int(xobj.Width), int(xobj.Height)))
        return real(xobj, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(image_colour, "judge", counting)
    with pikepdf.open(trap_docs["image-reused"].path) as pdf:
        verdicts = pdfscan.scan_document(pdf)
    assert [v.colour for v in verdicts] == [True] * 41
    assert judged == [(64, 64)]
