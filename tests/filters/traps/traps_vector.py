"""Vector colour traps: exact colours in every colour space, marks that do not print."""

from __future__ import annotations

from pathlib import Path

import pikepdf
from traps import BLACK_TEXT, Doc, N, Trap, fill, text, trap, type2, type4


def spaces(doc: Doc) -> None:
    cmyk = N.DeviceCMYK
    doc.add("ColorSpace", "Lab", [N.Lab, pikepdf.Dictionary(WhitePoint=[0.9505, 1, 1.089])])
    doc.add("ColorSpace", "Spot", [N.Separation, N("/PANTONE 185 C"), cmyk,
                                   type2([0, 0, 0, 0], [0, 0.9, 0.8, 0])])
    doc.add("ColorSpace", "Black", [N.Separation, N.Black, cmyk,
                                    type2([0, 0, 0, 0], [0, 0, 0, 1])])
    doc.add("ColorSpace", "All", [N.Separation, N.All, cmyk,
                                  type2([0, 0, 0, 0], [1, 1, 1, 1])])
    doc.add("ColorSpace", "NoneSep", [N.Separation, N("/None"), N.DeviceRGB,
                                      type2([1, 1, 1], [1, 0, 0])])
    doc.add("ColorSpace", "CM", [N.DeviceN, [N.Cyan, N.Magenta], cmyk,
                                 type4(doc, b"{ 0 0 }", 4, inputs=2)])
    doc.add("ColorSpace", "GraySep", [N.Separation, N("/Gray ink"), N.DeviceRGB,
                                      type4(doc, b"{ 1 exch sub dup dup }", 3)])
    doc.add("ColorSpace", "Steps", [N.Separation, N("/Steps"), N.DeviceRGB,
                                    type4(doc, b"{ dup 0.5 gt { pop 1 0 0 } "
                                               b"{ 1 exch sub dup dup } ifelse }", 3)])
    doc.add("ColorSpace", "Pal", [N.Indexed, N.DeviceRGB, 1,
                                  pikepdf.String(b"\x80\x80\x80\xff\x00\x00")])
    doc.add("ColorSpace", "IccGray", [N.ICCBased, doc.stream(b"", N=1)])


@trap
def vector(d: Path) -> Trap:
    doc = Doc()
    spaces(doc)
    doc.add("ExtGState", "Clear", pikepdf.Dictionary(ca=0))
    doc.add("ExtGState", "Lum", pikepdf.Dictionary(BM=N.Luminosity))
    doc.add("Shading", "RedBlue", pikepdf.Dictionary(
        ShadingType=2, ColorSpace=N.DeviceRGB, Coords=[100, 100, 300, 100],
        Function=type2([1, 0, 0], [0, 0, 1])))
    doc.add("Shading", "GrayRamp", pikepdf.Dictionary(
        ShadingType=2, ColorSpace=N.DeviceRGB, Coords=[100, 100, 300, 100],
        Function=type2([1, 1, 1], [0, 0, 0])))
    cm_mix = b"/CM cs 0 0 scn"
    triangle = b"".join(bytes([0]) + x.to_bytes(2, "big") + y.to_bytes(2, "big") + rgb
                        for x, y, rgb in ((100, 100, b"\xff\0\0"), (300, 100, b"\0\0\xff"),
                                          (200, 300, b"\0\xff\0")))
    for name, space, data in (("Mesh", N.DeviceRGB, triangle),
                              ("GrayMesh", N.DeviceGray, triangle[:6] + triangle[8:14]
                               + triangle[16:22])):
        n = 3 if space == N.DeviceRGB else 1
        doc.add("Shading", name, doc.stream(data, ShadingType=4, ColorSpace=space,
                                            BitsPerCoordinate=16, BitsPerComponent=8,
                                            BitsPerFlag=8,
                                            Decode=[0, 65535, 0, 65535] + [0, 1] * n))
    pages: list[tuple[bytes, bool]] = [
        (fill(b"0.50 0.50 0.53 rg", w=2, h=2), True),       # 1 bluish gray, tiny
        (fill(b"0.5 0.5 0.5 rg"), False),                   # 2
        (fill(b"0.01 0 0 0.5 k"), True),                    # 3 any C
        (fill(b"0 0 0 0.7 k"), False),                      # 4 K only
        (fill(b"1 1 1 1 k"), True),                         # 5 rich black
        (fill(b"/Lab cs 50 0 0 sc"), False),                # 6
        (fill(b"/Lab cs 50 1 0 sc"), True),                 # 7 a* = 1
        (fill(b"/Spot cs 0.3 scn"), True),                  # 8 spot via tint transform
        (fill(b"/Black cs 0.8 scn"), False),                # 9
        (fill(b"/All cs 1 scn"), False),                    # 10 registration
        (fill(b"/NoneSep cs 1 scn"), False),                # 11 paints nothing
        (fill(cm_mix), False),                              # 12 type 4: 0 0 -> K only
        (fill(b"/GraySep cs 0.4 scn"), False),              # 13 type 4 neutral
        (fill(b"/Steps cs 0.3 scn"), False),                # 14 type 4 ifelse: gray branch
        (fill(b"/Steps cs 0.7 scn"), True),                 # 15 type 4 ifelse: red branch
        (fill(b"/Pal cs 0 sc"), False),                     # 16 palette entry 0 gray
        (fill(b"/Pal cs 1 sc"), True),                      # 17 palette entry 1 red
        (b"0 0 1 RG 4 w 100 100 m 300 300 l S", True),      # 18 stroke (rendered)
        (text(b"0.5 0.5 0.52 rg"), True),                   # 19 near-gray text (rendered)
        (b"3 Tr " + text(b"1 0 0 rg"), False),              # 20 invisible text
        (b"/Clear gs " + fill(b"1 0 0 rg"), False),         # 21 ca 0
        (b"/RedBlue sh", True),                             # 22 shading
        (b"/GrayRamp sh", False),                           # 23 neutral shading (proved)
        (fill(b"0 0 0.1 0 k"), True),                       # 24 pale 10 % yellow
        (text(b"0 0 0.1 0 k"), True),                       # 25 the same as text (rendered)
        (fill(b"0.5 0.5 0.502 rg"), True),                  # 26 chroma 1/2 of 1/255
        (fill(b"/IccGray cs 0.3 sc"), False),               # 27
        (fill(b"1 0 0 rg", x=700) + b" " + BLACK_TEXT, False),   # 28 off the page
        (b"q 0 0 10 10 re W n " + fill(b"1 0 0 rg") + b" Q", False),   # 29 clipped away
        (fill(b"1 0 0 rg") + b" 1 g 90 90 80 80 re f", False),         # 30 covered by white
        (fill(b"1 0 0 rg") + b" 1 g 120 120 80 80 re f", True),        # 31 half covered
        (text(b"1 0 0 rg") + b" 1 g 0 0 612 792 re f", False),         # 32 text covered
        (b"0 0 1 rg BT /F1 24 Tf 100 600 Td 7 Tr (clip only) Tj ET", False),  # 33 Tr 7
        (BLACK_TEXT, False),                                # 34
        (b"/Mesh sh", True),                                # 35 mesh shading (rendered)
        (b"/GrayMesh sh", False),                           # 36 in DeviceGray
        # "f0" is no operator and "g" lacks its operand: a reader keeps the red (rendered)
        (fill(b"1 0 0 rg", x=700) + BLACK_TEXT, True),      # 37 malformed
        # Blended by luminosity (§11.3.5.3): over the page's empty backdrop red stays red,
        # over gray it takes the gray's hue: gray (both rendered)
        (b"/Lum gs " + fill(b"1 0 0 rg"), True),            # 38
        (b"0.5 g 0 0 612 792 re f /Lum gs " + fill(b"1 0 0 rg"), False),   # 39
    ]
    for content, _ in pages:
        doc.page(content)
    path = d / "vector.pdf"
    doc.save(path)
    return Trap("vector", path, len(pages),
                tuple(i + 1 for i, (_, colour) in enumerate(pages) if colour), rendered=11)


@trap
def patterns_and_forms(d: Path) -> Trap:
    doc = Doc()
    cell = doc.stream(b"1 0 0 rg 0 0 5 5 re f", PatternType=1, PaintType=1, TilingType=1,
                      BBox=[0, 0, 10, 10], XStep=10, YStep=10, Resources=pikepdf.Dictionary())
    gray_cell = doc.stream(b"0.5 g 0 0 5 5 re f", PatternType=1, PaintType=1, TilingType=1,
                           BBox=[0, 0, 10, 10], XStep=10, YStep=10,
                           Resources=pikepdf.Dictionary())
    stencil = doc.stream(b"0 0 5 5 re f", PatternType=1, PaintType=2, TilingType=1,
                         BBox=[0, 0, 10, 10], XStep=10, YStep=10, Resources=pikepdf.Dictionary())
    doc.res.Pattern = pikepdf.Dictionary(Red=cell, Gray=gray_cell, Stencil=stencil)
    doc.add("ColorSpace", "PatRGB", [N.Pattern, N.DeviceRGB])
    inherit = doc.add("XObject", "Inherit", doc.form(b"BT /F1 24 Tf 100 600 Td (inherits) Tj ET"))
    doc.add("XObject", "RedBox", doc.form(b"1 0 0 rg 100 100 50 50 re f"))
    assert inherit is not None
    pages: list[tuple[bytes, bool]] = [
        (fill(b"/Pattern cs /Red scn"), True),               # 1 coloured pattern
        (fill(b"/Pattern cs /Gray scn"), False),             # 2
        (fill(b"/PatRGB cs 0 0 1 /Stencil scn"), True),      # 3 uncoloured pattern, blue
        (fill(b"/PatRGB cs 0.2 0.2 0.2 /Stencil scn"), False),
        (b"0 0 1 rg /Inherit Do", True),                     # 5 the form inherits blue
        (b"0 g /Inherit Do", False),                         # 6 the same form, black
        (b"q 1 0 0 1 1000 0 cm /RedBox Do Q", False),         # 7 a red form off the page,
        (b"/RedBox Do", True),                               # 8 then on it
    ]
    for content, _ in pages:
        doc.page(content)
    path = d / "patterns-forms.pdf"
    doc.save(path)
    return Trap("patterns-forms", path, len(pages),
                tuple(i + 1 for i, (_, colour) in enumerate(pages) if colour), rendered=3)
