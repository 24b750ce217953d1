"""The render threshold itself (issue 19 item 7): chroma just below and just above it.

PostScript is judged on its render and PWG raster on its pixels, with
``CHROMA_THRESHOLD`` = 24 (out of 255, colour.py): a page whose only mark has a chroma of
24 is gray, 25 is colour, and a pale 10 % tint (chroma 26) is colour.  Set the threshold
to 0 or to 150 and these fail.  (PDF vector colours have no threshold at all, and lossy
PDF images their own: test_traps.py.)
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from ippproxy.filters.analysis import analyse


def _ps(path: Path) -> tuple[int, ...]:
    """Four pages: chroma = threshold, threshold + 1, a 10 % yellow tint, gray; returns
    the colour pages a correct threshold gives."""
    base = 128
    pages = [f"{base / 255} {base / 255} {(base + 24) / 255} setrgbcolor",
             f"{base / 255} {base / 255} {(base + 25) / 255} setrgbcolor",
             "0 0 0.1 0 setcmykcolor",
             "0.5 setgray"]
    body = "".join(f"%%Page: {i} {i}\n{c} 100 100 300 300 rectfill showpage\n"
                   for i, c in enumerate(pages, start=1))
    path.write_text(f"%!PS-Adobe-3.0\n%%Pages: {len(pages)}\n{body}%%EOF\n")
    return (2, 3)


def test_postscript_render_threshold(tmp_path: Path) -> None:
    expected = _ps(tmp_path / "t.ps")
    a = analyse(tmp_path / "t.ps", "application/postscript")
    assert (a.pages, a.colour_pages) == (4, expected)


def test_pwg_raster_threshold(tmp_path: Path) -> None:
    """A client's PWG raster (made with fast colour: the chroma is the one written)."""
    expected = _ps(tmp_path / "t.ps")
    subprocess.run(["gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-dUseFastColor",
                    "-sDEVICE=pwgraster", "-r20", "-dcupsColorSpace=19", "-dcupsBitsPerColor=8",
                    f"-sOutputFile={tmp_path / 't.pwg'}", str(tmp_path / "t.ps")], check=True)
    a = analyse(tmp_path / "t.pwg", "image/pwg-raster")
    assert (a.pages, a.colour_pages) == (4, expected)
