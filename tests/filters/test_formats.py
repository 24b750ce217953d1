"""PCL XL, images, text and raster details; inspect's output."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import corpus
import pytest
from PIL import Image

from ippproxy.filters import text
from ippproxy.filters.analysis import analyse
from ippproxy.filters.errors import FormatError
from ippproxy.filters.inspect import main as inspect_main


@pytest.mark.parametrize("device", ["pxlmono", "pxlcolor"])
def test_pclxl_pages_and_sizes(cases: dict[str, corpus.Case], tmp_path: Path, device: str) -> None:
    out = tmp_path / f"m.{device}"
    subprocess.run(["gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", f"-sDEVICE={device}",
                    f"-sOutputFile={out}", str(cases["mixed-sizes"].path)], check=True)
    a = analyse(out, "application/vnd.hp-pclxl")
    assert a.pages == 4
    assert [s.media for s in a.page_sizes] == ["na_letter_8.5x11in", "iso_a4_210x297mm",
                                               "iso_a3_297x420mm", "iso_a4_210x297mm"]
    with pytest.raises(FormatError, match="ends inside|truncated|past the end"):
        data = out.read_bytes()
        (tmp_path / "cut.pxl").write_bytes(data[: len(data) * 2 // 3])
        analyse(tmp_path / "cut.pxl", "application/vnd.hp-pclxl")


def test_images(tmp_path: Path) -> None:
    gray_rgb = Image.new("RGB", (300, 200), (90, 90, 90))
    gray_rgb.save(tmp_path / "g.jpg", quality=80)
    gray_rgb.save(tmp_path / "g.png")
    dot = gray_rgb.copy()
    dot.putpixel((150, 100), (255, 0, 0))
    dot.save(tmp_path / "dot.png")
    Image.new("L", (50, 50), 0).save(tmp_path / "l.png")
    Image.new("RGB", (300, 200), (20, 90, 200)).save(tmp_path / "c.jpg")
    # Judged at their own resolution: one pixel of 3,000,000, exactly in a PNG, unless
    # it is transparent; a JPEG's gray noise is tolerated, a visible tint is not.
    big = Image.new("RGB", (2000, 1500), (90, 90, 90))
    big.putpixel((1001, 751), (90, 90, 91))
    big.save(tmp_path / "big-dot.png")
    hidden = big.convert("RGBA")
    hidden.putpixel((1001, 751), (255, 0, 0, 0))
    hidden.save(tmp_path / "hidden-dot.png")
    Image.new("RGB", (300, 200), (128, 128, 128 + 4)).save(tmp_path / "below.jpg", quality=95)
    Image.new("RGB", (300, 200), (128, 128, 128 + 16)).save(tmp_path / "above.jpg", quality=95)
    expected = {"g.jpg": (), "g.png": (), "dot.png": (1,), "l.png": (), "c.jpg": (1,),
                "big-dot.png": (1,), "hidden-dot.png": (), "below.jpg": (), "above.jpg": (1,)}
    for name, colour in expected.items():
        fmt = "image/jpeg" if name.endswith("jpg") else "image/png"
        a = analyse(tmp_path / name, fmt)
        assert (a.pages, a.colour_pages, a.page_sizes) == (1, colour, ()), name


def test_text_pagination() -> None:
    layout = text.TextLayout()
    assert text.count("") == 1
    assert text.count("a\n" * layout.lines_per_page) == 1
    assert text.count("a\n" * (layout.lines_per_page + 1)) == 2
    assert text.count("one\fTwo\f") == 2
    assert text.count("x" * (layout.columns * 3)) == 1
    assert text.count(("x" * (layout.columns + 1) + "\n") * layout.lines_per_page) == 2


def test_pcl5_is_explicitly_unknown(tmp_path: Path) -> None:
    (tmp_path / "j.pcl").write_bytes(b"\x1bE\x1b&l0OHello\f\x1bE")
    a = analyse(tmp_path / "j.pcl", "application/vnd.hp-pcl")
    assert a.pages is None and a.colour_pages is None and a.notes


def test_raster_header_lies(cases: dict[str, corpus.Case], tmp_path: Path) -> None:
    data = bytearray(cases["small-colour-mark-pwg"].path.read_bytes())
    data[4 + 376:4 + 380] = (10 ** 7).to_bytes(4, "big")      # cupsHeight
    (tmp_path / "h.pwg").write_bytes(bytes(data))
    with pytest.raises(FormatError, match="implausible|ends inside"):
        analyse(tmp_path / "h.pwg", "image/pwg-raster")


def test_inspect_json(cases: dict[str, corpus.Case], capsys: pytest.CaptureFixture[str]) -> None:
    path = cases["blue-header-1-of-21"].path
    assert inspect_main([str(path), "--json", "--copies", "2", "--sides",
                         "two-sided-long-edge", "--number-up", "1", "--page-ranges", "1-5"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert (r["format"], r["pages"], r["colour-pages"]) == ("application/pdf", 21, [1])
    assert (r["job-impressions"], r["job-impressions-col"]) == (5, 1)
    assert (r["job-media-sheets"], r["job-media-sheets-col"]) == (6, 2)
    assert r["per-media"][0]["media"] == "na_letter_8.5x11in" and r["seconds"] > 0
    # Sheets 1-2 of each copy are two-sided (sheet 1 with colour page 1), sheet 3 is not.
    assert (r["per-media"][0]["impressions-two-sided"],
            r["per-media"][0]["impressions-two-sided-col"]) == (8, 2)


def test_inspect_text_and_errors(cases: dict[str, corpus.Case], tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert inspect_main([str(cases["ps-small-colour-mark"].path)]) == 0
    out = capsys.readouterr().out
    assert "colour pages:  2" in out and "pages:         2" in out
    (tmp_path / "x.bin").write_bytes(b"\x00\x01\x02")
    assert inspect_main([str(tmp_path / "x.bin")]) == 1
    assert "not-supported" in capsys.readouterr().err
    assert inspect_main([str(tmp_path / "missing.pdf")]) == 1
