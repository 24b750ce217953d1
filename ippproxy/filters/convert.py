"""Conversions: force grayscale (whole documents or selected pages), PostScript duplex, PDF/PS to PWG raster or URF, PS to PDF,
text to PDF.

A conversion prints what the printer would have printed: a PDF's optional content is
converted in its print state (a print-only layer stays, a screen-only one goes), and
annotations by their print flags (``-dPrinted``).

Every conversion writes to a temporary file beside ``dst`` and renames it into
place only on success, so a failed or killed conversion never leaves half a
document.  Ghostscript runs through ghostscript.py (``-dSAFER``, argv lists).
Run these in a pool worker (``AnalysisPool.convert``), not on the event loop.
"""

from __future__ import annotations

import mmap
import os
import shutil
import struct
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pikepdf

from ippproxy.filters import detect, ghostscript, raster, text
from ippproxy.filters.errors import AnalysisError, FormatError
from ippproxy.filters.optional_content import print_state_copy

PWG_SRGB, PWG_SGRAY = 19, 18      # cupsColorSpace (PWG 5102.4 §4.3.1.20)
URF_SGRAY, URF_SRGB = 0, 1
_PWG_TO_URF_SPACE = {PWG_SGRAY: URF_SGRAY, PWG_SRGB: URF_SRGB, 3: URF_SGRAY}


@contextmanager
def _atomic(dst: Path) -> Iterator[Path]:
    fd, tmp = tempfile.mkstemp(dir=dst.parent, prefix=f".{dst.name}.", suffix=".part")
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, dst)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def to_grayscale_pdf(src: Path, dst: Path, *, timeout: float = 300.0) -> None:
    """Rewrite a PDF or PostScript document as a gray-only PDF, then verify it has no colour.

    Optional content keeps its print state: Ghostscript flattens layers by their view
    state, so it reads a copy in the print state (optional_content.print_state_copy)."""
    with _atomic(dst) as tmp, print_state_copy(src, dst.parent) as source:
        ghostscript.run(ghostscript.argv(
            "pdfwrite", "-sColorConversionStrategy=Gray", "-dProcessColorModel=/DeviceGray",
            "-dAutoRotatePages=/None", "-dPrinted", f"-sOutputFile={tmp}", "-f", str(source)),
            timeout=timeout)
        from ippproxy.filters.analysis import analyse  # analysis imports this module's peers
        check = analyse(tmp, detect.PDF)
        if check.colour_pages:
            raise AnalysisError(f"grayscale conversion left colour on pages {check.colour_pages}")


def grayscale_pages(src: Path, dst: Path, *, pages: str, timeout: float = 300.0) -> None:
    """A PDF with the pages ``pages`` selects ("1-2,5-5", 1-based) gray and the others as
    they are: ``print-color-mode`` page overrides (PWG 5100.6) applied for a printer that
    does not take them. The gray pages are those of ``to_grayscale_pdf`` (checked)."""
    chosen = _ranges(pages)
    with tempfile.TemporaryDirectory(dir=dst.parent) as d:
        gray = Path(d) / "gray.pdf"
        to_grayscale_pdf(src, gray, timeout=timeout)
        with pikepdf.open(src) as doc, pikepdf.open(gray) as grey, _atomic(dst) as tmp:
            if len(doc.pages) != len(grey.pages):
                raise AnalysisError("the grayscale conversion changed the number of pages")
            for i in range(len(doc.pages)):
                if any(lo <= i + 1 <= hi for lo, hi in chosen):
                    doc.pages[i] = grey.pages[i]
            doc.save(tmp)


def _ranges(spec: str) -> list[tuple[int, int]]:
    out = []
    for part in spec.split(","):
        lo, _, hi = part.partition("-")
        if not (lo.isdigit() and hi.isdigit() and 1 <= int(lo) <= int(hi)):
            raise AnalysisError(f"not a page range: {part[:32]!r}")
        out.append((int(lo), int(hi)))
    return out


def ps_to_pdf(src: Path, dst: Path, *, timeout: float = 300.0) -> None:
    with _atomic(dst) as tmp:
        ghostscript.run(ghostscript.argv("pdfwrite", "-dAutoRotatePages=/None",
                                         f"-sOutputFile={tmp}", "-f", str(src)),
                        timeout=timeout)


def ps_set_duplex(src: Path, dst: Path, *, tumble: bool = False) -> None:
    """Copy a PostScript job, adding a Duplex page-device request (PLRM3 §6.2) in its setup.

    The feature goes after ``%%BeginSetup`` (or after the ``%!`` line when there is no
    setup section), wrapped in ``%%BeginFeature``/``%%EndFeature`` (DSC 3.0 §5.3).
    """
    feature = (b"%%BeginFeature: *Duplex " + (b"DuplexTumble" if tumble else b"DuplexNoTumble")
               + b"\n<< /Duplex true /Tumble " + (b"true" if tumble else b"false")
               + b" >> setpagedevice\n%%EndFeature\n")
    with open(src, "rb") as fin, _atomic(dst) as tmp, open(tmp, "wb") as out:
        first = fin.readline(4096)
        if not first.lstrip(b"\x04").startswith(b"%!"):
            raise FormatError("not a PostScript document")
        out.write(first)
        header: list[bytes] = []
        for _ in range(2000):             # DSC header and prolog: look for %%BeginSetup
            line = fin.readline(65536)
            header.append(line)
            if not line or line.startswith((b"%%BeginSetup", b"%%Page:")):
                break
        if header[-1].startswith(b"%%BeginSetup"):
            at = len(header)
        else:                             # after the header comments
            at = next((i + 1 for i, h in enumerate(header) if h.startswith(b"%%EndComments")),
                      next((i for i, h in enumerate(header) if not h.startswith(b"%")),
                           len(header)))
        out.writelines(header[:at])
        out.write(feature)
        out.writelines(header[at:])
        shutil.copyfileobj(fin, out, 1 << 20)


def to_pwg_raster(src: Path, dst: Path, *, dpi: int = 300, colour: bool = True,
                  timeout: float = 600.0) -> None:
    """PDF or PostScript to PWG raster (8-bit sRGB or sGray) with gs's pwgraster device."""
    space = PWG_SRGB if colour else PWG_SGRAY
    with _atomic(dst) as tmp, print_state_copy(src, dst.parent) as source:
        ghostscript.run(ghostscript.argv(
            "pwgraster", f"-r{dpi}", f"-dcupsColorSpace={space}", "-dcupsBitsPerColor=8",
            "-dPrinted", f"-sOutputFile={tmp}", "-f", str(source)), timeout=timeout)


def to_urf(src: Path, dst: Path, *, dpi: int = 300, colour: bool = True,
           timeout: float = 600.0) -> None:
    """PDF or PostScript to Apple raster: render to PWG raster, then re-wrap the pages."""
    with tempfile.TemporaryDirectory(dir=dst.parent) as d:
        pwg = Path(d) / "pages.pwg"
        to_pwg_raster(src, pwg, dpi=dpi, colour=colour, timeout=timeout)
        pwg_to_urf(pwg, dst)


def pwg_to_urf(src: Path, dst: Path) -> None:
    """Re-wrap PWG raster pages as URF: same line compression, 32-byte page headers."""
    with open(src, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
        pages = raster.walk_pwg(m)
        ends = [p.offset for p in pages[1:]] + [len(m)]
        with _atomic(dst) as tmp, open(tmp, "wb") as out:
            out.write(raster.URF_SYNC + struct.pack(">I", len(pages)))
            for page, end in zip(pages, ends):
                if page.x_dpi != page.y_dpi or page.colour_space not in _PWG_TO_URF_SPACE:
                    raise FormatError("PWG page cannot be expressed as URF", offset=page.offset)
                out.write(struct.pack(">BBBBII IIIII", page.bits_per_pixel,
                                      _PWG_TO_URF_SPACE[page.colour_space], 1, 4, 0, 0,
                                      page.width, page.height, page.x_dpi, 0, 0))
                out.write(m[page.offset + raster.PWG_HEADER:end])


def text_to_pdf(src: Path, dst: Path, layout: text.TextLayout = text.DEFAULT_LAYOUT) -> None:
    """Typeset plain text (UTF-8) with the layout text.py counts (Courier, WinAnsi)."""
    body = src.read_bytes().decode("utf-8", "replace")
    pdf = pikepdf.new()
    font = pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1,
                              BaseFont=pikepdf.Name.Courier,
                              Encoding=pikepdf.Name.WinAnsiEncoding)
    resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
    top = layout.size.height - text.MARGIN - text.FONT_SIZE
    for lines in text.paginate(body, layout):
        ops = [b"BT /F1 %g Tf %g TL %g %g Td" % (text.FONT_SIZE, text.LEADING, text.MARGIN, top)]
        for line in lines:
            raw = line.encode("cp1252", "replace")
            ops.append(b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(")
                       .replace(b")", b"\\)") + b") Tj T*")
        ops.append(b"ET")
        page = pikepdf.Dictionary(Type=pikepdf.Name.Page,
                                  MediaBox=[0, 0, layout.size.width, layout.size.height],
                                  Resources=resources,
                                  Contents=pikepdf.Stream(pdf, b"\n".join(ops)))
        pdf.pages.append(pikepdf.Page(page))
    with _atomic(dst) as tmp:
        pdf.save(tmp)


CONVERTERS: dict[str, Callable[..., None]] = {
    "grayscale-pdf": to_grayscale_pdf,
    "grayscale-pages": grayscale_pages,
    "ps-to-pdf": ps_to_pdf,
    "ps-duplex": ps_set_duplex,
    "pwg-raster": to_pwg_raster,
    "urf": to_urf,
    "pwg-to-urf": pwg_to_urf,
    "text-to-pdf": text_to_pdf,
}
