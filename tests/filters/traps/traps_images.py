"""Image traps: one colour pixel, palettes, gray JPEGs, soft masks, PCLm strips, /Count."""

from __future__ import annotations

import re
from pathlib import Path

import pikepdf
from PIL import Image, ImageCms
from traps import BLACK_TEXT, Doc, N, Trap, gray_rgb, text, trap, type2

W = H = 64
PLACE = b"q 96 0 0 96 100 300 cm /%s Do Q"      # 1.5 pt per image pixel
RED_AT = (37, 21)
COVER_TEXT = b" 1 g 0 550 612 242 re f"        # white over the text line, not the image


def one_red_pixel() -> bytes:
    data = gray_rgb(W, H)
    i = (RED_AT[1] * W + RED_AT[0]) * 3
    data[i:i + 3] = b"\xff\x00\x00"
    return bytes(data)


def jpeg_patch(delta: int) -> Image.Image:
    """A gray JPEG picture with a flat 32x32 patch whose blue exceeds red and green by
    ``delta`` (a chroma of about ``delta`` after JPEG's rounding)."""
    img = Image.new("RGB", (W, H), (128, 128, 128))
    for y in range(H):
        for x in range(W):
            v = 60 + (x * 2 + y) % 120
            img.putpixel((x, y), (v, v, v))
    if delta:
        img.paste((120, 120, 120 + delta), (16, 16, 48, 48))
    return img


def srgb_profile(doc: Doc) -> pikepdf.Stream:
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    return doc.stream(profile, N=3, Alternate=N.DeviceRGB)


@trap
def images(d: Path) -> Trap:
    doc = Doc()
    x = doc.res.XObject
    x.Red1 = doc.image(W, H, one_red_pixel())
    x.Gray = doc.image(W, H, bytes(gray_rgb(W, H)))
    palette = pikepdf.String(b"\x00\x00\x00\xff\xff\xff\xff\x00\x00")
    used = bytes((x_ + y) % 2 for y in range(H) for x_ in range(W))
    x.PalGray = doc.image(W, H, used, space=[N.Indexed, N.DeviceRGB, 2, palette])
    x.PalRed = doc.image(W, H, used[:-1] + b"\x02", space=[N.Indexed, N.DeviceRGB, 2, palette])
    x.Pal4Gray = doc.image(W, 1, bytes([0x01] * (W // 2)), bpc=4,
                           space=[N.Indexed, N.DeviceRGB, 2, palette])
    x.JpegGray = doc.jpeg(jpeg_patch(0))
    x.JpegBelow = doc.jpeg(jpeg_patch(4))
    x.JpegAbove = doc.jpeg(jpeg_patch(16))
    k_only = Image.merge("CMYK", [Image.new("L", (W, H), 0)] * 3 + [jpeg_patch(0).convert("L")])
    adobe = [1, 0] * 4                  # Pillow writes Adobe (inverted) CMYK, as Photoshop does
    x.JpegCmykGray = doc.jpeg(k_only, space=N.DeviceCMYK, Decode=adobe)
    x.JpegCmykCyan = doc.jpeg(Image.merge("CMYK", [Image.new("L", (W, H), 40)]
                                          + [Image.new("L", (W, H), 0)] * 2
                                          + [jpeg_patch(0).convert("L")]), space=N.DeviceCMYK,
                              Decode=adobe)
    x.JpegCmykRaw = doc.jpeg(k_only, space=N.DeviceCMYK)   # read raw: C = M = Y = 100 %
    icc = srgb_profile(doc)
    x.JpegIcc = doc.jpeg(jpeg_patch(0), space=[N.ICCBased, icc])
    x.JpegYCbCrGray = doc.jpeg(jpeg_patch(0).convert("L").convert("RGB"))
    alpha_hide = bytearray(b"\xff" * (W * H))
    alpha_hide[RED_AT[1] * W + RED_AT[0]] = 0
    x.MaskedOut = doc.image(W, H, one_red_pixel(), SMask=doc.image(W, H, bytes(alpha_hide),
                                                                  space=N.DeviceGray))
    x.MaskedIn = doc.image(W, H, one_red_pixel(), SMask=doc.image(W, H, b"\x80" * (W * H),
                                                                 space=N.DeviceGray))
    spot = [N.Separation, N("/Spot"), N.DeviceCMYK, type2([0, 0, 0, 0], [0, 1, 1, 0])]
    x.SpotBlank = doc.image(W, H, b"\x00" * (W * H), space=spot)
    x.SpotDot = doc.image(W, H, b"\x00" * (W * H - 1) + b"\x40", space=spot)
    gray16 = b"".join(bytes((v, 7)) * 3 for v in range(256)) * 16
    x.Gray16 = doc.image(64, 64, gray16, bpc=16)
    tinted16 = bytearray(gray16)
    tinted16[5] = 8                                  # blue's low byte: 1/65535 off
    x.Tinted16 = doc.image(64, 64, bytes(tinted16), bpc=16)
    pages: list[tuple[bytes, bool]] = [
        (PLACE % b"Red1", True),                     # 1 one red pixel of 4,096
        (PLACE % b"Gray", False),                    # 2
        (PLACE % b"PalGray", False),                 # 3 red palette entry never used
        (PLACE % b"PalRed", True),                   # 4 ... used once
        (PLACE % b"Pal4Gray", False),                # 5 4-bit indices 0 and 1
        (PLACE % b"JpegGray", False),                # 6 gray JPEG stored as RGB
        (PLACE % b"JpegBelow", False),               # 7 chroma below the tolerance
        (PLACE % b"JpegAbove", True),                # 8 chroma above it
        (PLACE % b"JpegIcc", False),                 # 9 ICC-based, in fact gray
        (PLACE % b"JpegYCbCrGray", False),           # 10
        (PLACE % b"MaskedOut", False),               # 11 the red pixel is transparent
        (PLACE % b"MaskedIn", True),                 # 12 half transparent: prints
        (PLACE % b"SpotBlank", False),               # 13 tint 0 everywhere
        (PLACE % b"SpotDot", True),                  # 14 one dot of spot ink
        (PLACE % b"Gray16", False),                  # 15
        (PLACE % b"Tinted16", True),                 # 16 exact on 16-bit samples
        (PLACE % b"Red1" + b" " + text(b"0 g"), True),             # 17 rendered: text after
        (PLACE % b"JpegBelow" + b" " + text(b"0 g"), False),       # 18 rendered, tolerance
        (PLACE % b"JpegAbove" + b" " + text(b"0 g"), True),        # 19 rendered, tolerance
        (b"q 96 0 0 96 700 300 cm /Red1 Do Q " + BLACK_TEXT, False),   # 20 off the page
        (b"BI /W 2 /H 1 /CS /RGB /BPC 8 ID \x80\x80\x80\x80\x80\x81 EI", True),  # 21 inline
        (b"BI /W 2 /H 1 /CS /RGB /BPC 8 ID \x80\x80\x80\x40\x40\x40 EI", False),
        # Rendered (red text that white covers), so the render's tolerance decides the JPEG:
        (PLACE % b"JpegBelow" + b" " + text(b"1 0 0 rg") + COVER_TEXT, False),   # 23
        (PLACE % b"JpegAbove" + b" " + text(b"1 0 0 rg") + COVER_TEXT, True),    # 24
        (PLACE % b"JpegCmykGray", False),            # 25 a CMYK JPEG in black ink only
        (PLACE % b"JpegCmykCyan", True),             # 26 ... with 16 % cyan
        (PLACE % b"JpegCmykRaw", True),              # 27 no /Decode: rich black
    ]
    for content, _ in pages:
        doc.page(content)
    path = d / "images.pdf"
    doc.save(path)
    return Trap("images", path, len(pages),
                tuple(i + 1 for i, (_, colour) in enumerate(pages) if colour), rendered=4)


@trap
def image_reused(d: Path) -> Trap:
    """One image XObject on many pages (decoded once), and a page already colour."""
    doc = Doc()
    doc.res.XObject.Red1 = doc.image(W, H, one_red_pixel())
    doc.res.XObject.Big = doc.image(512, 512, bytes(gray_rgb(512, 512)))
    for _ in range(40):
        doc.page(PLACE % b"Red1")
    doc.page(b"1 0 0 rg 10 10 20 20 re f " + PLACE % b"Big")
    path = d / "image-reused.pdf"
    doc.save(path)
    return Trap("image-reused", path, 41, tuple(range(1, 42)))


def strip_pdf(d: Path, name: str, red_page: int, lossy: bool) -> Path:
    """A PCLm-shaped document: each page a column of strip images (Mopria PCLm 1.0 §5)."""
    doc = Doc()
    strips = 4
    sw, sh = 200, 16
    for p in range(1, 4):
        content = []
        res = pikepdf.Dictionary(XObject=pikepdf.Dictionary())
        for s in range(strips):
            data = bytearray(b"\xff" * (sw * sh * 3))
            if p == 2 and s == 0:
                data[0:3 * sw] = b"\x20" * (3 * sw)          # a black rule
            if p == red_page and s == strips - 1:
                i = (sh // 2 * sw + sw // 2) * 3
                data[i:i + 3] = b"\xff\x00\x00"              # one red pixel in a strip
            if lossy:
                img = Image.frombytes("RGB", (sw, sh), bytes(data))
                res.XObject[f"/S{s}"] = doc.jpeg(img)
            else:
                res.XObject[f"/S{s}"] = doc.image(sw, sh, bytes(data))
            content.append(b"q %d 0 0 %d 0 %d cm /S%d Do Q" % (sw * 72 // 100, sh * 72 // 100,
                                                            (strips - 1 - s) * sh * 72 // 100, s))
        page = pikepdf.Dictionary(Type=N.Page, MediaBox=[0, 0, 144, 46.08], Resources=res,
                                  Contents=pikepdf.Stream(doc.pdf, b"\n".join(content)))
        doc.pdf.pages.append(pikepdf.Page(page))
    path = d / name
    doc.save(path)
    written = path.read_bytes()
    head = re.match(rb"%PDF-1\.\d\n(%[^\n]{4})\n", written)
    assert head is not None
    path.write_bytes(written.replace(head.group(1), b"%PCLm", 1))   # same length: xref holds
    return path


@trap
def pclm_strips(d: Path) -> Trap:
    return Trap("pclm-strips", strip_pdf(d, "strips.pclm", 3, lossy=False), 3, (3,),
                format="application/PCLm")


@trap
def pclm_strips_jpeg(d: Path) -> Trap:
    """A red pixel in a JPEG strip: its chroma, well above the tolerance, survives JPEG."""
    return Trap("pclm-strips-jpeg", strip_pdf(d, "strips-jpeg.pclm", 3, lossy=True), 3, (3,),
                format="application/PCLm")


@trap
def lying_count(d: Path) -> Trap:
    doc = Doc()
    for content in (BLACK_TEXT, b"0 0 1 rg 10 10 20 20 re f", BLACK_TEXT):
        doc.page(content)
    path = d / "lying-count.pdf"
    doc.save(path)
    data = path.read_bytes()
    path.write_bytes(data.replace(b"/Count 3", b"/Count 2000000000", 1))
    with pikepdf.open(path) as check:     # qpdf repairs the xref offsets on open
        assert int(check.Root.Pages.Count) == 2000000000
    return Trap("lying-count", path, 3, (2,), notes=("/Count says 2000000000",))

