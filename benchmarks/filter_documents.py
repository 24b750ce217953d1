"""The documents bench_filters.py measures, generated deterministically with pikepdf and gs.

* ``text``: N pages of black text (45 lines each), a blue header on page 1;
* ``mixed``: N pages like an office document set: one page in eight is colour (a blue
  vector header on even eighths, a colour photo on odd ones), one in eight has a gray
  photo stored as RGB (gray, but only its pixels tell), the rest black text. Every
  photo is its own image XObject (no two pages share one), 160 x 120 pixels, Flate;
* ``image``: N full-page scans (850 x 1100 RGB pixels, Flate), one in three colour, the
  others gray stored as RGB;
* ``ps``: the text PDF as PostScript (ps2write).

``truth(kind, pages)`` is the list of colour pages by construction.
"""

from __future__ import annotations

import subprocess
import zlib
from collections.abc import Sequence
from pathlib import Path

import pikepdf

LETTER = (612.0, 792.0)
_SHIFT = [bytes((b + k) % 256 for b in range(256)) for k in range(256)]
_INVERT = bytes(255 - b for b in range(256))
HEADER = b"0 0 0.8 rg BT /F1 18 Tf 50 760 Td (Quarterly report) Tj ET\n"


def text_stream(lines: int = 45, y0: float = 740.0) -> bytes:
    out = [b"0 g", b"BT /F1 10.0 Tf 14.0 TL 50 %.1f Td" % y0]
    for i in range(lines):
        out.append(b"(Line %d: The quick brown fox jumps over the lazy dog, 0123456789.) '" % i)
    out.append(b"ET")
    return b"\n".join(out)


def _image(pdf: pikepdf.Pdf, w: int, h: int, seed: int, colour: bool) -> pikepdf.Stream:
    """A smooth photo-like RGB image; ``colour``: tinted, else R = G = B everywhere."""
    base = bytes((x * 3) % 256 for x in range(w))
    rows = []
    for y in range(h):
        k = (y * 2 + seed * 7) % 256
        v = base.translate(_SHIFT[k])
        row = bytearray(w * 3)
        row[0::3] = v
        row[1::3] = v.translate(_SHIFT[40]) if colour else v
        row[2::3] = v.translate(_INVERT) if colour else v
        rows.append(bytes(row))
    data = zlib.compress(b"".join(rows), 6)
    return pikepdf.Stream(pdf, data, Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Image,
                          Width=w, Height=h, ColorSpace=pikepdf.Name.DeviceRGB,
                          BitsPerComponent=8, Filter=pikepdf.Name.FlateDecode)


Page = tuple[bytes, pikepdf.Stream | None]    # content stream, the page's image


def _write(path: Path, pdf: pikepdf.Pdf, pages: Sequence[Page]) -> None:
    font = pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1,
                              BaseFont=pikepdf.Name.Helvetica)
    fonts = pikepdf.Dictionary(F1=font)
    for content, image in pages:
        resources = pikepdf.Dictionary(Font=fonts)
        if image is not None:
            resources.XObject = pikepdf.Dictionary(Im1=image)
        pdf.pages.append(pikepdf.Page(pikepdf.Dictionary(
            Type=pikepdf.Name.Page, MediaBox=[0, 0, *LETTER], Resources=resources,
            Contents=pikepdf.Stream(pdf, zlib.compress(content), Filter=pikepdf.Name.FlateDecode))))
    pdf.save(path)


def text_pdf(path: Path, pages: int) -> None:
    pdf = pikepdf.new()
    _write(path, pdf, [(HEADER + text_stream(y0=720), None)] +
           [(text_stream(), None)] * (pages - 1))


def mixed_pdf(path: Path, pages: int) -> None:
    pdf = pikepdf.new()
    body: list[Page] = []
    photo = b"q 320 0 0 240 150 80 cm /Im1 Do Q\n" + text_stream(lines=25)
    for i in range(pages):
        if i % 16 == 0:
            body.append((HEADER + text_stream(y0=720), None))
        elif i % 8 == 0:
            body.append((photo, _image(pdf, 160, 120, i, colour=True)))
        elif i % 8 == 4:
            body.append((photo, _image(pdf, 160, 120, i, colour=False)))
        else:
            body.append((text_stream(), None))
    _write(path, pdf, body)


def image_pdf(path: Path, pages: int) -> None:
    pdf = pikepdf.new()
    scan = b"q 612 0 0 792 0 0 cm /Im1 Do Q"
    _write(path, pdf, [(scan, _image(pdf, 850, 1100, i, colour=i % 3 == 0))
                       for i in range(pages)])


def postscript(pdf: Path, path: Path) -> None:
    subprocess.run(["gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=ps2write",
                    f"-sOutputFile={path}", str(pdf)], check=True)


def truth(kind: str, pages: int) -> list[int]:
    """The colour pages (1-based) of each kind, by construction."""
    if kind in ("text", "ps"):
        return [1]
    if kind == "mixed":
        return [i + 1 for i in range(pages) if i % 8 == 0]
    return [i + 1 for i in range(pages) if i % 3 == 0]
