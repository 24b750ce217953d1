"""Optional content traps (ISO 32000-1 §8.11): what prints is the Print state."""

from __future__ import annotations

from pathlib import Path

import pikepdf
from traps import BLACK_TEXT, Doc, N, Trap, fill, text, trap

RED = b"1 0 0 rg"
COVER = b" 1 g 90 90 80 80 re f"          # white over fill()'s red square


def ocg(doc: Doc, name: str, print_state: str | None = None) -> pikepdf.Dictionary:
    d = pikepdf.Dictionary(Type=N.OCG, Name=pikepdf.String(name))
    if print_state:
        d.Usage = pikepdf.Dictionary(Print=pikepdf.Dictionary(PrintState=pikepdf.Name(
            "/" + print_state)))
    return doc.pdf.make_indirect(d)


def layered(with_as: bool) -> tuple[Doc, dict[str, pikepdf.Dictionary]]:
    doc = Doc()
    g = {"screen": ocg(doc, "Screen only", "OFF"),    # shown, not printed
         "print": ocg(doc, "Print only", "ON"),       # hidden, printed
         "off": ocg(doc, "Off"),                      # hidden, no usage: not printed
         "on": ocg(doc, "On")}
    d = pikepdf.Dictionary(Name=pikepdf.String("Default"), BaseState=N.ON,
                           OFF=[g["print"], g["off"]])
    if with_as:
        d.AS = [pikepdf.Dictionary(Event=N.Print, Category=[N.Print],
                                   OCGs=[g["screen"], g["print"]]),
                pikepdf.Dictionary(Event=N.View, Category=[N.View], OCGs=[g["screen"]])]
    doc.pdf.Root.OCProperties = pikepdf.Dictionary(OCGs=list(g.values()), D=d)
    for k, v in g.items():
        doc.add("Properties", k, v)
    doc.add("Properties", "anyOnScreen", pikepdf.Dictionary(
        Type=N.OCMD, OCGs=[g["screen"]], P=N.AnyOn))
    doc.add("Properties", "notScreen", pikepdf.Dictionary(
        Type=N.OCMD, OCGs=[g["screen"]], VE=[N.Not, g["screen"]]))
    doc.add("Properties", "allOffPrint", pikepdf.Dictionary(
        Type=N.OCMD, OCGs=[g["print"], g["off"]], P=N.AllOff))
    doc.add("Properties", "anyOffPrintOn", pikepdf.Dictionary(
        Type=N.OCMD, OCGs=[g["print"], g["on"]], P=N.AnyOff))
    doc.add("Properties", "allOnPrintScreen", pikepdf.Dictionary(
        Type=N.OCMD, OCGs=[g["print"], g["screen"]], P=N.AllOn))
    doc.add("Properties", "allOnPrintOn", pikepdf.Dictionary(
        Type=N.OCMD, OCGs=[g["print"], g["on"]], P=N.AllOn))
    doc.add("Properties", "allOffScreenOff", pikepdf.Dictionary(
        Type=N.OCMD, OCGs=[g["screen"], g["off"]], P=N.AllOff))
    doc.add("Properties", "orVE", pikepdf.Dictionary(
        Type=N.OCMD, VE=[N.Or, [N.And, g["screen"], g["on"]], g["off"]]))
    return doc, g


def bdc(tag: str, body: bytes) -> bytes:
    return b"/OC /" + tag.encode() + b" BDC " + body + b" EMC "


@trap
def layers(d: Path) -> Trap:
    doc, g = layered(with_as=True)
    red_form = doc.add("XObject", "FmScreen", doc.form(fill(RED), OC=g["screen"]))
    assert red_form is not None
    doc.add("XObject", "FmPrint", doc.form(fill(RED), OC=g["print"]))
    doc.add("XObject", "ImPrint", doc.image(2, 2, b"\xff\0\0" * 4, OC=g["print"]))
    doc.add("XObject", "ImScreen", doc.image(2, 2, b"\xff\0\0" * 4, OC=g["screen"]))
    pages = [
        bdc("screen", fill(RED)),                                   # 1 gray
        bdc("print", fill(RED)),                                    # 2 colour
        bdc("notScreen", fill(RED)),                                # 3 colour (VE Not)
        bdc("anyOnScreen", fill(RED)),                              # 4 gray
        b"/FmScreen Do",                                            # 5 gray (form /OC)
        b"/FmPrint Do",                                             # 6 colour
        b"q 50 0 0 50 100 100 cm /ImPrint Do Q",                    # 7 colour (image /OC)
        b"q 50 0 0 50 100 100 cm /ImScreen Do Q",                   # 8 gray
        bdc("off", fill(RED)),                                      # 9 gray
        bdc("screen", bdc("print", fill(RED))),                     # 10 gray: nested, outer off
        bdc("allOffPrint", fill(RED)),                              # 11 gray: print is on
        bdc("anyOffPrintOn", fill(RED)),                            # 12 gray: both on
        bdc("orVE", fill(RED)),                                     # 13 gray
        bdc("screen", text(RED)) + fill(RED) + COVER,               # 14 gray (rendered)
        bdc("print", text(RED)),                                    # 15 colour (rendered)
        bdc("on", fill(RED)),                                       # 16 colour
        BLACK_TEXT,                                                 # 17 gray
        bdc("allOnPrintScreen", fill(RED)),                         # 18 gray: screen is off
        bdc("allOnPrintOn", fill(RED)),                             # 19 colour
        bdc("allOffScreenOff", fill(RED)),                          # 20 colour: both off
    ]
    for p in pages:
        doc.page(p)
    path = d / "layers.pdf"
    doc.save(path)
    return Trap("layers", path, len(pages), (2, 3, 6, 7, 15, 16, 19, 20), rendered=2)


@trap
def layers_usage_without_as(d: Path) -> Trap:
    """No /AS entry for Print: each group's /Usage /Print /PrintState still decides."""
    doc, _ = layered(with_as=False)
    pages = [bdc("screen", fill(RED)), bdc("print", fill(RED)), bdc("off", fill(RED)),
             bdc("screen", text(RED)), bdc("print", text(RED))]
    for p in pages:
        doc.page(p)
    path = d / "layers-no-as.pdf"
    doc.save(path)
    return Trap("layers-usage-without-as", path, len(pages), (2, 5), rendered=1)


@trap
def annotation_flags(d: Path) -> Trap:
    """Annotations print by their flags (§12.5.3) and their /OC."""
    doc, g = layered(with_as=True)
    red = doc.form(fill(RED))

    def annot(flags: int, **keys: object) -> pikepdf.Dictionary:
        a = pikepdf.Dictionary(Type=N.Annot, Subtype=N.Square, Rect=[100, 100, 150, 150],
                               F=flags, AP=pikepdf.Dictionary(N=red))
        for k, v in keys.items():
            a[f"/{k}"] = v
        return a

    bare = pikepdf.Dictionary(Type=N.Annot, Subtype=N.Square, Rect=[100, 100, 150, 150], F=4,
                              C=[1, 0, 0])
    layouts = [[annot(4)],                   # 1 colour: printed
               [annot(0)],                   # 2 gray: no Print flag
               [annot(4 | 2)],               # 3 gray: hidden
               [annot(4, OC=g["screen"])],   # 4 gray: screen-only layer
               [annot(4, OC=g["print"])],    # 5 colour
               [bare]]                       # 6 no appearance: Ghostscript draws one
    for annots in layouts:
        doc.page(BLACK_TEXT)
        doc.pdf.pages[-1].obj.Annots = pikepdf.Array(annots)
    path = d / "annotations.pdf"
    doc.save(path)
    return Trap("annotations", path, len(layouts), (1, 5, 6), rendered=3)
