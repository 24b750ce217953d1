"""Trap documents for the colour and page counts (issue 19), built deterministically.

Every document is written here with pikepdf from hand-made content streams (and
Pillow for JPEG data), so its truth is known by construction: ``Trap.colour``
is the exact list of pages a colour printer prints with colour toner, and
``Trap.pages`` the pages it prints.  No binary fixture: ``build(dir)`` makes
them all (well under a second).
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pikepdf
import pytest
from PIL import Image

N = pikepdf.Name
LETTER = [0, 0, 612, 792]


@dataclass(frozen=True)
class Trap:
    name: str
    path: Path
    pages: int
    colour: tuple[int, ...]
    notes: tuple[str, ...] = field(default=())
    format: str = "application/pdf"
    rendered: int = 0              # pages the content scan leaves to the render


class Doc:
    """A PDF under construction: pages share one resource dictionary."""

    def __init__(self) -> None:
        self.pdf = pikepdf.new()
        font = pikepdf.Dictionary(Type=N.Font, Subtype=N.Type1, BaseFont=N.Helvetica)
        self.res = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font),
                                      XObject=pikepdf.Dictionary(),
                                      ColorSpace=pikepdf.Dictionary(),
                                      Properties=pikepdf.Dictionary(),
                                      ExtGState=pikepdf.Dictionary(),
                                      Shading=pikepdf.Dictionary())

    def page(self, content: bytes, box: list[float] | None = None) -> None:
        d = pikepdf.Dictionary(Type=N.Page, MediaBox=box or LETTER, Resources=self.res,
                               Contents=pikepdf.Stream(self.pdf, content))
        self.pdf.pages.append(pikepdf.Page(d))

    def add(self, kind: str, name: str, obj: object) -> object:
        self.res[f"/{kind}"][f"/{name}"] = obj
        return obj

    def stream(self, data: bytes, **keys: object) -> pikepdf.Stream:
        s = pikepdf.Stream(self.pdf, data)
        for k, v in keys.items():
            s[f"/{k}"] = v
        return s

    def image(self, w: int, h: int, data: bytes, space: object = N.DeviceRGB, bpc: int = 8,
              **keys: object) -> pikepdf.Stream:
        img = self.stream(zlib.compress(data), Type=N.XObject, Subtype=N.Image, Width=w,
                          Height=h, BitsPerComponent=bpc, ColorSpace=space,
                          Filter=N.FlateDecode, **keys)
        return img

    def jpeg(self, img: Image.Image, space: object = N.DeviceRGB, **keys: object
             ) -> pikepdf.Stream:
        out = io.BytesIO()
        img.save(out, "JPEG", quality=90)
        return self.stream(out.getvalue(), Type=N.XObject, Subtype=N.Image, Width=img.width,
                           Height=img.height, BitsPerComponent=8, ColorSpace=space,
                           Filter=N.DCTDecode, **keys)

    def form(self, content: bytes, **keys: object) -> pikepdf.Stream:
        return self.stream(content, Type=N.XObject, Subtype=N.Form, BBox=LETTER,
                           Resources=self.res, **keys)

    def save(self, path: Path) -> None:
        self.pdf.save(path, deterministic_id=True, compress_streams=False)


def fill(colour: bytes, x: int = 100, y: int = 100, w: int = 50, h: int = 50) -> bytes:
    return colour + b" %d %d %d %d re f" % (x, y, w, h)


def text(colour: bytes, words: bytes = b"Trap text") -> bytes:
    """Text of unknown glyph extent: a colour verdict on it needs the render."""
    return colour + b" BT /F1 24 Tf 100 600 Td (" + words + b") Tj ET"


BLACK_TEXT = text(b"0 g", b"Black body text")


def gray_rgb(w: int, h: int) -> bytearray:
    """A gray ramp stored as RGB (R = G = B)."""
    return bytearray(b"".join(bytes((v, v, v)) for y in range(h) for v in
                              ((x * 7 + y * 3) % 256 for x in range(w))))


def type2(c0: list[float], c1: list[float]) -> pikepdf.Dictionary:
    return pikepdf.Dictionary(FunctionType=2, Domain=[0, 1], C0=c0, C1=c1, N=1)


def type4(doc: Doc, program: bytes, outputs: int, inputs: int = 1) -> pikepdf.Stream:
    return doc.stream(program, FunctionType=4, Domain=[0, 1] * inputs, Range=[0, 1] * outputs)


BUILDERS: list[Callable[[Path], Trap]] = []


def trap(fn: Callable[[Path], Trap]) -> Callable[[Path], Trap]:
    BUILDERS.append(fn)
    return fn


_BUILT: dict[str, Trap] = {}


def built_once(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Trap]:
    """Every trap, built once per test process (for the test modules' fixtures: a
    conftest.py here would shadow the ``conftest`` other test directories import)."""
    if not _BUILT:
        _BUILT.update(build(Path(tmp_path_factory.mktemp("traps"))))
    return _BUILT


def build(directory: Path) -> dict[str, Trap]:
    """Write every trap document into ``directory``; by name."""
    import traps_images  # noqa: F401  (these modules register their builders with @trap)
    import traps_layers  # noqa: F401
    import traps_vector  # noqa: F401
    directory.mkdir(parents=True, exist_ok=True)
    return {t.name: t for t in (b(directory) for b in BUILDERS)}
