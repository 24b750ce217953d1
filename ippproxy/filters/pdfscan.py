"""Prove PDF pages gray from their content streams, without rendering.

Theory of operation
-------------------
Rendering is exact but costs a Ghostscript run; most office pages are black
text whose content stream says so.  ``page_needs_render`` is a *prover*: it
returns False only when nothing on the page can paint a non-neutral colour,
and True ("render it") as soon as anything could:

* colour operators: ``g``/``G`` are gray; ``rg``/``RG`` with R = G = B and
  ``k``/``K`` with C = M = Y = 0 are neutral (ISO 32000-1 §8.6.8); ``sc``/``scn``
  after ``cs`` are judged the same way by their operand count; any other
  colour space (Separation, DeviceN, Indexed, Lab, Pattern) -> render;
* ``sh`` (shadings), inline images (``BI``), Type 3 fonts (glyphs may set
  colour), transfer functions in an ExtGState, annotations other than plain
  links -> render;
* image XObjects: image masks paint with the fill colour (already checked)
  and gray images are gray; an RGB or CMYK image -> render (a gray picture
  stored as RGB is common, and only its pixels tell);
* form XObjects are scanned recursively with their own resources (depth and
  cycle guarded).

The operator-filtered tokenizer is qpdf's (``pikepdf.parse_content_stream``),
so strings, comments and dictionaries are tokenized correctly: a colour
operator inside a string is never taken for a real one, and a real one is
never missed.  A False here is final; a True sends the page to colour.py.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal

import pikepdf

from ippproxy.filters.errors import LimitExceeded

_OPS = "rg RG k K cs CS sc scn SC SCN sh Do gs"
_INLINE_IMAGE = re.compile(rb"(?:^|[\s\]\)>])BI[\s/]")
_GRAY_SPACES = {"/DeviceGray", "/CalGray", "/G"}
_KNOWN_SPACES = _GRAY_SPACES | {"/DeviceRGB", "/DeviceCMYK", "/CalRGB", "/RGB", "/CMYK"}
_MAX_DEPTH = 8


class _Render(Exception):
    """Raised inside the scan: this page needs rendering (``reason`` says why)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _inherited(obj: pikepdf.Object, key: str) -> pikepdf.Object | None:
    for _ in range(64):
        if key in obj:
            return obj[key]
        parent = obj.get("/Parent")
        if parent is None:
            return None
        obj = parent
    return None


def _space_kind(space: pikepdf.Object, resources: pikepdf.Object | None) -> str:
    """'gray', 'colour' (RGB/CMYK family: judged by operands) or raise _Render."""
    if isinstance(space, pikepdf.Name):
        name = str(space)
        if name in _KNOWN_SPACES:
            return "gray" if name in _GRAY_SPACES else "colour"
        spaces = resources.get("/ColorSpace") if resources is not None else None
        named = spaces.get(name) if spaces is not None else None
        if named is None:
            raise _Render(f"unknown colour space {name}")
        return _space_kind(named, None)
    if isinstance(space, pikepdf.Array) and len(space) >= 1:
        family = str(space[0])
        if family == "/ICCBased" and len(space) >= 2:
            n = int(space[1].get("/N", 0))
            if n == 1:
                return "gray"
            if n in (3, 4):
                return "colour"
        if family in ("/CalGray", "/CalRGB"):
            return "gray" if family == "/CalGray" else "colour"
    raise _Render("special colour space")


def _numbers(operands: Sequence[object]) -> list[float] | None:
    if not all(isinstance(o, (int, float, Decimal)) and not isinstance(o, bool) for o in operands):
        return None
    try:
        return [float(o) for o in operands]  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _neutral(values: list[float] | None) -> bool:
    if values is None:
        return False
    if len(values) == 1:
        return True
    if len(values) == 3:
        return values[0] == values[1] == values[2]
    if len(values) == 4:
        return values[0] == values[1] == values[2] == 0
    return False


def _check_resources(resources: pikepdf.Object | None) -> None:
    if resources is None:
        return
    for font in resources.get("/Font", {}).values():
        if font.get("/Subtype") == "/Type3":
            raise _Render("Type 3 font")
    for gstate in resources.get("/ExtGState", {}).values():
        for key in ("/TR", "/TR2"):
            if key in gstate and gstate[key] not in ("/Identity", "/Default"):
                raise _Render("transfer function")


def _stream_bytes(contents: pikepdf.Object) -> bytes:
    if isinstance(contents, pikepdf.Array):
        return b"\n".join(c.read_bytes() for c in contents)
    return bytes(contents.read_bytes())


def _scan(owner: pikepdf.Object | pikepdf.Page, raw: bytes, resources: pikepdf.Object | None,
          depth: int, seen: set[tuple[int, int]]) -> None:
    if _INLINE_IMAGE.search(raw):
        raise _Render("inline image")
    _check_resources(resources)
    for instruction in pikepdf.parse_content_stream(owner, _OPS):
        if not isinstance(instruction, pikepdf.ContentStreamInstruction):
            raise _Render("inline image")
        operands, o = list(instruction.operands), str(instruction.operator)
        if o in ("rg", "RG", "k", "K", "sc", "SC", "scn", "SCN"):
            if not _neutral(_numbers(list(operands))):
                raise _Render(f"colour operator {o}")
        elif o in ("cs", "CS"):
            if not operands:
                raise _Render("bad cs")
            _space_kind(operands[0], resources)
        elif o == "sh":
            raise _Render("shading")
        elif o == "Do":
            _do(operands, resources, depth, seen)


def _do(operands: Sequence[object], resources: pikepdf.Object | None, depth: int,
        seen: set[tuple[int, int]]) -> None:
    xobjects = resources.get("/XObject") if resources is not None else None
    name = operands[0] if operands else None
    xobj = xobjects.get(str(name)) if xobjects is not None and name is not None else None
    if xobj is None:
        return   # nothing is painted for a missing XObject
    subtype = xobj.get("/Subtype")
    if subtype == "/Image":
        if bool(xobj.get("/ImageMask", False)):
            return
        space = xobj.get("/ColorSpace")
        if space is None or _space_kind(space, resources) != "gray":
            raise _Render("colour image")
        return
    if subtype == "/Form":
        key = xobj.objgen
        if depth >= _MAX_DEPTH or key in seen:
            raise _Render("deep or recursive form")
        seen.add(key)
        form_resources = xobj.get("/Resources", resources)
        _scan(xobj, bytes(xobj.read_bytes()), form_resources, depth + 1, seen)
        seen.discard(key)
        return
    raise _Render("unknown XObject")


def page_needs_render(page: pikepdf.Page) -> str | None:
    """None when the page is provably gray; else the reason it must be rendered."""
    obj = page.obj
    try:
        for annot in obj.get("/Annots", []):
            if annot.get("/Subtype") != "/Link" or "/AP" in annot:
                return "annotation"
        contents = obj.get("/Contents")
        if contents is None:
            return None
        resources = _inherited(obj, "/Resources")
        _scan(page, _stream_bytes(contents), resources, 0, set())
    except _Render as r:
        return r.reason
    except pikepdf.DataDecodingError as e:
        if "bad_alloc" in str(e):   # qpdf's report of a failed allocation: a bomb
            raise LimitExceeded("a content stream decompresses to more memory than "
                                "allowed (decompression bomb)") from None
        return "undecodable content"
    except (pikepdf.PdfError, AttributeError, KeyError, TypeError, ValueError) as e:
        return f"unreadable content ({type(e).__name__})"
    return None
