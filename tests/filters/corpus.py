"""A generated document corpus with known ground truth (pages, sizes, colour pages).

``build(directory)`` writes every case once and returns the list of ``Case``.
PDFs are written with pikepdf from hand-made content streams, so the truth is
known by construction; PostScript cases are hand-written; raster cases (PWG,
URF) are rendered from the PDFs with Ghostscript using fast (non-ICC) colour,
so neutral stays exactly neutral.  Documents are small: the whole corpus takes
about two seconds to build.
"""

from __future__ import annotations

import subprocess
import zlib
from dataclasses import dataclass
from pathlib import Path

import pikepdf

from ippproxy.filters.convert import pwg_to_urf

LETTER = (612.0, 792.0)
A4 = (595.28, 841.89)
A3 = (841.89, 1190.55)


@dataclass(frozen=True)
class Case:
    name: str
    format: str
    path: Path
    pages: int
    colour_pages: tuple[int, ...]
    sizes: tuple[tuple[float, float], ...]   # as printed (after /Rotate)


def text_stream(lines: int = 45, colour: bytes = b"0 g", size: float = 10.0,
                y0: float = 740.0) -> bytes:
    out = [colour, b"BT /F1 %.1f Tf %.1f TL 50 %.1f Td" % (size, size * 1.4, y0)]
    for i in range(lines):
        out.append(b"(Line %d: The quick brown fox jumps over the lazy dog, 0123456789.) '" % i)
    out.append(b"ET")
    return b"\n".join(out)


def rgb_image(pdf: pikepdf.Pdf, w: int, h: int, pixel: bytes,
              space: str = "/DeviceRGB") -> pikepdf.Stream:
    n = {"/DeviceRGB": 3, "/DeviceGray": 1}[space]
    data = bytes(pixel[: n]) * (w * h)
    img = pikepdf.Stream(pdf, zlib.compress(data))
    img.Type, img.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
    img.Width, img.Height, img.BitsPerComponent = w, h, 8
    img.ColorSpace = pikepdf.Name(space)
    img.Filter = pikepdf.Name.FlateDecode
    return img


def gradient_gray_rgb(pdf: pikepdf.Pdf, w: int, h: int) -> pikepdf.Stream:
    """A gray ramp stored as DeviceRGB (R = G = B): prints as gray."""
    data = b"".join(bytes((v, v, v)) for y in range(h) for v in
                    (((x + y) * 255 // (w + h)) for x in range(w)))
    img = rgb_image(pdf, 1, 1, b"\0\0\0")
    img.write(zlib.compress(data), filter=pikepdf.Name.FlateDecode)
    img.Width, img.Height = w, h
    return img


def write_pdf(path: Path, pages: list[bytes], *, sizes: list[tuple[float, float]] | None = None,
              rotate: dict[int, int] | None = None,
              xobjects: dict[str, object] | None = None, pdf: pikepdf.Pdf | None = None,
              object_streams: bool = False) -> None:
    pdf = pdf or pikepdf.new()
    font = pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1,
                              BaseFont=pikepdf.Name.Helvetica)
    resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
    if xobjects:
        resources.XObject = pikepdf.Dictionary({f"/{k}": v for k, v in xobjects.items()})
    for i, content in enumerate(pages):
        w, h = (sizes[i] if sizes else LETTER)
        page = pikepdf.Dictionary(Type=pikepdf.Name.Page, MediaBox=[0, 0, w, h],
                                  Resources=resources,
                                  Contents=pikepdf.Stream(pdf, content))
        if rotate and i in rotate:
            page.Rotate = rotate[i]
        pdf.pages.append(pikepdf.Page(page))
    mode = pikepdf.ObjectStreamMode.generate if object_streams else pikepdf.ObjectStreamMode.preserve
    pdf.save(path, object_stream_mode=mode)


def form_xobject(pdf: pikepdf.Pdf, content: bytes) -> pikepdf.Stream:
    form = pikepdf.Stream(pdf, content)
    form.Type, form.Subtype = pikepdf.Name.XObject, pikepdf.Name.Form
    form.BBox = [0, 0, 612, 792]
    return form


def _pdf_cases(d: Path) -> list[Case]:
    cases: list[Case] = []

    def add(name: str, pages: list[bytes], colour: tuple[int, ...], **kw: object) -> None:
        path = d / f"{name}.pdf"
        write_pdf(path, pages, **kw)  # type: ignore[arg-type]
        sizes = kw.get("sizes") or [LETTER] * len(pages)
        rot = kw.get("rotate") or {}
        printed = tuple((h, w) if rot.get(i, 0) % 180 else (w, h)  # type: ignore[union-attr]
                        for i, (w, h) in enumerate(sizes))  # type: ignore[arg-type]
        cases.append(Case(name, "application/pdf", path, len(pages), colour, printed))

    add("black-text-gray", [text_stream()], ())
    add("black-text-rgb", [text_stream(colour=b"0 0 0 rg 0 0 0 RG")], ())
    add("black-text-cmyk", [text_stream(colour=b"0 0 0 1 k")], ())
    add("gray-fills-cmyk-rgb", [(b"0 0 0 0.5 k 100 100 200 200 re f 0.3 0.3 0.3 rg "
                                 b"100 400 200 200 re f")], ())
    pdf = pikepdf.new()
    add("gray-image-as-rgb", [b"q 300 0 0 300 100 300 cm /Im0 Do Q"], (),
        pdf=pdf, xobjects={"Im0": gradient_gray_rgb(pdf, 64, 64)})
    pdf = pikepdf.new()
    add("colour-image", [b"q 200 0 0 200 100 300 cm /Im0 Do Q"], (1,),
        pdf=pdf, xobjects={"Im0": rgb_image(pdf, 8, 8, b"\x20\x80\xe0")})
    add("colour-mark-outside-page", [text_stream(lines=5) +
                                     b"\n1 0 0 rg 650 100 50 50 re f 0 0 1 rg 100 -80 40 40 re f"],
        ())
    add("small-colour-mark", [text_stream(lines=5) + b"\n1 0 0 rg 306 396 1 1 re f"], (1,))
    add("colour-covered-by-white", [b"1 0 0 rg 100 100 50 50 re f 1 g 90 90 80 80 re f"], ())
    header = b"0 0 0.8 rg BT /F1 18 Tf 50 760 Td (Quarterly report) Tj ET\n"
    add("blue-header-1-of-21", [header + text_stream(y0=720)] + [text_stream()] * 20, (1,))
    add("colour-every-third", [text_stream(colour=b"0.8 0 0 rg" if i % 3 == 2 else b"0 g")
                               for i in range(7)], (3, 6))
    pdf = pikepdf.new()
    add("colour-in-form", [b"/Fm0 Do", text_stream()], (1,), pdf=pdf,
        xobjects={"Fm0": form_xobject(pdf, b"0 1 0 rg 100 100 100 100 re f")})
    add("mixed-sizes", [text_stream(lines=3)] * 4, (), sizes=[LETTER, A4, A3, A4],
        rotate={2: 90})
    add("object-streams", [text_stream(lines=3)] * 3, (), object_streams=True)
    return cases


PS_PROLOGUE = b"%!PS-Adobe-3.0\n%%Pages: (atend)\n/Helvetica findfont 12 scalefont setfont\n"


def _ps(path: Path, pages: list[bytes], size: tuple[float, float] = LETTER,
        dsc_pages: int | None = None) -> None:
    body = [PS_PROLOGUE, b"<< /PageSize [%g %g] >> setpagedevice\n" % size]
    for i, p in enumerate(pages):
        body.append(b"%%%%Page: %d %d\n%s\nshowpage\n" % (i + 1, i + 1, p))
    body.append(b"%%%%Trailer\n%%%%Pages: %d\n%%%%EOF\n" % (dsc_pages or len(pages)))
    path.write_bytes(b"".join(body))


def _ps_text(colour: bytes) -> bytes:
    return colour + b" " + b" ".join(b"72 %d moveto (Line %d of black text in a PostScript job) show"
                                     % (700 - 14 * i, i) for i in range(30))


def _ps_cases(d: Path) -> list[Case]:
    specs: list[tuple[str, list[bytes], tuple[int, ...]]] = [
        ("ps-black-text-rgb", [_ps_text(b"0 0 0 setrgbcolor")] * 2, ()),
        ("ps-black-text-cmyk", [_ps_text(b"0 0 0 1 setcmykcolor")] * 2, ()),
        ("ps-gray-image-rgb", [(b"100 100 translate 200 200 scale 4 4 8 [4 0 0 4 0 0] "
                                b"<000000404040808080c0c0c0ffffff101010202020303030"
                                b"505050606060707070909090a0a0a0b0b0b0d0d0d0e0e0e0> "
                                b"false 3 colorimage")], ()),
        ("ps-colour-mark-outside", [_ps_text(b"0 setgray") + b" 1 0 0 setrgbcolor "
                                    b"700 100 50 50 rectfill"], ()),
        ("ps-small-colour-mark", [_ps_text(b"0 setgray"), b"1 0 0 setrgbcolor 300 300 1 1 rectfill"],
         (2,)),
        ("ps-blue-header", [b"0 0 0.8 setrgbcolor 72 740 moveto (Header) show " + _ps_text(b"0 setgray")]
         + [_ps_text(b"0 setgray")] * 20, (1,)),
    ]
    cases = []
    for name, pages, colour in specs:
        path = d / f"{name}.ps"
        _ps(path, pages)
        cases.append(Case(name, "application/postscript", path, len(pages), colour,
                          (LETTER,) * len(pages)))
    # DSC comments that lie: the interpreter's count wins.
    path = d / "ps-lying-dsc.ps"
    _ps(path, [_ps_text(b"0 setgray")] * 3, dsc_pages=1)
    cases.append(Case("ps-lying-dsc", "application/postscript", path, 3, (), (LETTER,) * 3))
    path = d / "ps-a4.ps"
    _ps(path, [_ps_text(b"0 setgray")], size=A4)
    cases.append(Case("ps-a4", "application/postscript", path, 1, (), (A4,)))
    return cases


def gs_raster(src: Path, dst: Path, device: str, *extra: str) -> None:
    subprocess.run(["gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-dUseFastColor",
                    f"-sDEVICE={device}", "-r50", *extra, f"-sOutputFile={dst}", str(src)],
                   check=True, capture_output=True)


def _raster_cases(d: Path, pdfs: list[Case]) -> list[Case]:
    cases = []
    wanted = {"black-text-cmyk", "gray-image-as-rgb", "colour-mark-outside-page",
              "small-colour-mark", "blue-header-1-of-21", "colour-every-third", "mixed-sizes"}
    for c in pdfs:
        if c.name not in wanted:
            continue
        pwg = d / f"{c.name}.pwg"
        gs_raster(c.path, pwg, "pwgraster", "-dcupsColorSpace=19", "-dcupsBitsPerColor=8")
        # Debian's gs 10.0 "urf" device writes 1-bit pages; URF is re-wrapped from PWG.
        pwg_to_urf(pwg, d / f"{c.name}.urf")
        for fmt, ext in (("image/pwg-raster", "pwg"), ("image/urf", "urf")):
            path = d / f"{c.name}.{ext}"
            sizes = tuple((round(w / 72 * 50) * 72 / 50, round(h / 72 * 50) * 72 / 50)
                          for w, h in c.sizes)
            cases.append(Case(f"{c.name}-{ext}", fmt, path, c.pages, c.colour_pages, sizes))
    return cases


def build(d: Path) -> list[Case]:
    d.mkdir(parents=True, exist_ok=True)
    pdfs = _pdf_cases(d)
    return pdfs + _ps_cases(d) + _raster_cases(d, pdfs)
