"""PCLm (Mopria PCLm 1.0, a restricted PDF of raster strips) made by Ghostscript's own
``pclm`` device: detected as PCLm, counted and classified per page like any PDF."""

from __future__ import annotations

import subprocess
from pathlib import Path

from ippproxy.filters.analysis import analyse
from ippproxy.filters.detect import PCLM, detect_format

# Page 1: a red box (colour); page 2: black text (gray); page 3: blank (gray).
PAGES = (b"1 0 0 setrgbcolor 72 72 100 100 rectfill showpage "
         b"0 setgray /Helvetica findfont 12 scalefont setfont 72 72 moveto (text) show showpage "
         b"showpage")


def test_pclm_from_ghostscript(tmp_path: Path) -> None:
    src = tmp_path / "in.ps"
    src.write_bytes(b"%!PS\n" + PAGES + b"\n")
    out = tmp_path / "doc.pclm"
    subprocess.run(["gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=pclm", "-r100",
                    "-sPAPERSIZE=a4", "-o", str(out), str(src)], check=True)
    head = out.read_bytes()[:4096]
    assert detect_format(head, None) == PCLM
    # A client that calls it application/pdf is right too: PCLm is a PDF (no format error).
    assert detect_format(head, "application/pdf") == "application/pdf"
    result = analyse(out, PCLM)
    assert result.pages == 3
    assert list(result.colour_pages or ()) == [1]
    assert len(result.page_sizes) == 3
