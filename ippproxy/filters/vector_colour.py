"""Colour spaces and the exact neutrality of one colour value (ISO 32000-1 §8.6).

Theory of operation
-------------------
A colour printer uses colour toner for a mark unless its colour is neutral, so
a vector colour is judged exactly, whatever the size of the mark; there is no
tolerance here (tolerance belongs to lossy image data, image_colour.py):

* DeviceGray, CalGray, ICCBased with N = 1: always neutral (§8.6.4.2, §8.6.5.2);
* DeviceRGB, CalRGB, ICCBased N = 3: neutral when R = G = B;
* DeviceCMYK, ICCBased N = 4: neutral when C = M = Y = 0 (any cyan, magenta or
  yellow puts colour toner on the sheet, a "rich black" included);
* Lab (§8.6.5.4): neutral when a* = b* = 0;
* Indexed (§8.6.6.3): the palette entry at the index, judged in the base space;
* Separation and DeviceN (§8.6.6.4, §8.6.6.5): the colorant ``/All`` (registration)
  is neutral and ``/None`` paints nothing; otherwise the tint transform
  (functions.py) maps the tints into the alternate space, judged there.

``Space.judge(values)`` returns True for colour, False for neutral and raises
``functions.Undecidable`` when the answer cannot be computed exactly.
``resolve`` turns a colour space operand or object into a ``Space`` (cached per
object by the caller's ``cache``); unknown names raise ``Undecidable``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pikepdf

from ippproxy.filters.functions import Undecidable, evaluate

_BY_NAME = {"/DeviceGray": "gray", "/G": "gray", "/CalGray": "gray",
            "/DeviceRGB": "rgb", "/RGB": "rgb", "/CalRGB": "rgb",
            "/DeviceCMYK": "cmyk", "/CMYK": "cmyk", "/Pattern": "pattern"}
_N = {"gray": 1, "rgb": 3, "cmyk": 4, "lab": 3}


@dataclass(frozen=True)
class Space:
    family: str                            # gray rgb cmyk lab indexed separation pattern
    n: int                                 # operands of sc/scn (components)
    base: Space | None = None              # Indexed base, tint alternate, pattern underlying
    palette: bytes = b""                   # Indexed lookup table
    function: pikepdf.Object | None = field(default=None, compare=False)
    ranges: tuple[float, ...] = ()         # Lab /Range (a and b)
    neutral_colorants: bool = False        # Separation /All, or only /None colorants

    def initial(self) -> list[float]:
        """The initial colour after ``cs`` (§8.6.8, Table 74)."""
        if self.family == "cmyk":
            return [0.0, 0.0, 0.0, 1.0]
        if self.family == "lab":
            return [0.0, 0.0, 0.0]
        if self.family == "separation":
            return [1.0] * self.n
        return [0.0] * self.n

    def judge(self, values: Sequence[float]) -> bool:
        """True when ``values`` in this space is a non-neutral colour."""
        f = self.family
        if f == "gray":
            return False
        if len(values) < self.n:
            raise Undecidable("too few colour operands")
        if f == "rgb":
            return not values[0] == values[1] == values[2]
        if f == "cmyk":
            return any(v != 0 for v in values[:3])
        if f == "lab":
            return values[1] != 0 or values[2] != 0
        if f == "indexed":
            return self._palette_entry(values[0])
        if f == "separation":
            if self.neutral_colorants or self.base is None or self.function is None:
                return False
            return self.base.judge(evaluate(self.function, list(values[:self.n])))
        raise Undecidable(f"colour space {f}")

    def _palette_entry(self, index: float) -> bool:
        assert self.base is not None
        i = round(index)
        nb = self.base.n
        entry = self.palette[i * nb:(i + 1) * nb]
        if i < 0 or len(entry) < nb:
            raise Undecidable("index outside the palette")
        return self.base.judge(self.base.from_bytes(entry))

    def from_bytes(self, raw: bytes) -> list[float]:
        """Palette bytes (0..255 per component) as colour values (§8.6.6.3)."""
        if self.family == "lab":
            a0, a1, b0, b1 = self.ranges
            return [raw[0] * 100 / 255, a0 + raw[1] * (a1 - a0) / 255,
                    b0 + raw[2] * (b1 - b0) / 255]
        return [b / 255 for b in raw]


GRAY = Space("gray", 1)
RGB = Space("rgb", 3)
CMYK = Space("cmyk", 4)
DEFAULT = GRAY


def resolve(space: object, resources: pikepdf.Object | None,
            cache: dict[tuple[int, int], Space], depth: int = 0) -> Space:
    """The ``Space`` of a colour space name or array (named ones via ``/ColorSpace``)."""
    if depth > 6:
        raise Undecidable("nested colour spaces")
    if isinstance(space, pikepdf.Name):
        name = str(space)
        if name in _BY_NAME:
            fam = _BY_NAME[name]
            return Space(fam, _N.get(fam, 0))
        named = resources.get("/ColorSpace") if resources is not None else None
        obj = named.get(name) if named is not None else None
        if obj is None:
            raise Undecidable(f"unknown colour space {name}")
        return resolve(obj, None, cache, depth + 1)
    if not isinstance(space, pikepdf.Array) or len(space) < 1:
        raise Undecidable("bad colour space")
    key = space.objgen
    if key != (0, 0) and key in cache:
        return cache[key]
    result = _array_space(space, cache, depth)
    if key != (0, 0):
        cache[key] = result
    return result


def _array_space(space: pikepdf.Array, cache: dict[tuple[int, int], Space],
                 depth: int) -> Space:
    family = str(space[0])
    if family in _BY_NAME:
        if family == "/Pattern":
            under = resolve(space[1], None, cache, depth + 1) if len(space) > 1 else None
            return Space("pattern", under.n + 1 if under else 0, base=under)
        fam = _BY_NAME[family]
        return Space(fam, _N.get(fam, 0))
    if family == "/ICCBased" and len(space) >= 2:
        n = int(space[1].get("/N", 0))
        icc = {1: "gray", 3: "rgb", 4: "cmyk"}.get(n)
        if icc is None:
            raise Undecidable(f"ICC profile with {n} components")
        return Space(icc, n)
    if family == "/Lab" and len(space) >= 2:
        rng = [float(v) for v in space[1].get("/Range", [-100, 100, -100, 100])]
        return Space("lab", 3, ranges=tuple(rng))
    if family in ("/Indexed", "/I") and len(space) >= 4:
        base = resolve(space[1], None, cache, depth + 1)
        lookup = space[3]
        table = bytes(lookup.read_bytes()) if isinstance(lookup, pikepdf.Stream) \
            else bytes(lookup)
        return Space("indexed", 1, base=base, palette=table)
    if family in ("/Separation", "/DeviceN") and len(space) >= 4:
        names = [str(space[1])] if family == "/Separation" else [str(n) for n in space[1]]
        alternate = resolve(space[2], None, cache, depth + 1)
        neutral = names == ["/All"] or all(n == "/None" for n in names)
        return Space("separation", len(names), base=alternate, function=space[3],
                     neutral_colorants=neutral)
    raise Undecidable(f"colour space {family}")
