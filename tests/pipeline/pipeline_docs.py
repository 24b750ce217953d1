"""Real documents with known truth for the pipeline tests: PDFs written with pikepdf
(black text on every page, a red square on the colour pages) and hand-written PostScript."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pikepdf

A4 = (595.28, 841.89)


def pdf_bytes(colours: Sequence[bool], size: tuple[float, float] = A4, tag: str = "") -> bytes:
    doc = pikepdf.new()
    font = pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1,
                              BaseFont=pikepdf.Name.Helvetica)
    for i, colour in enumerate(colours):
        ops = [b"0 g BT /F1 18 Tf 72 720 Td (page %d %s) Tj ET" % (i + 1, tag.encode())]
        if colour:
            ops.append(b"1 0 0 rg 72 500 100 100 re f")
        page = pikepdf.Dictionary(
            Type=pikepdf.Name.Page, MediaBox=[0, 0, size[0], size[1]],
            Resources=pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font)),
            Contents=pikepdf.Stream(doc, b"\n".join(ops)))
        doc.pages.append(pikepdf.Page(page))
    import io
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def pdf(path: Path, colours: Sequence[bool], tag: str = "") -> Path:
    path.write_bytes(pdf_bytes(colours, tag=tag))
    return path


def postscript(path: Path, colours: Sequence[bool]) -> Path:
    pages = []
    for i, colour in enumerate(colours):
        body = f"%%Page: {i + 1} {i + 1}\n0 setgray /Helvetica findfont 18 scalefont setfont\n" \
               f"72 720 moveto (page {i + 1}) show\n"
        if colour:
            body += "1 0 0 setrgbcolor 72 500 100 100 rectfill\n"
        pages.append(body + "showpage\n")
    path.write_text("%!PS-Adobe-3.0\n%%Pages: " + str(len(colours)) + "\n%%EndComments\n"
                    + "".join(pages) + "%%EOF\n")
    return path
