"""Is an image XObject colour?  Judged at the image's own resolution (ISO 32000-1 §8.9).

Theory of operation
-------------------
A page is sampled when it is rendered, so one red pixel in a neutral photo
(1.5 pt a pixel) is lost at 36 dpi.  Here every sample of the image is looked
at, decoded with qpdf (Flate, LZW, RunLength, ASCII filters, predictors) or, for
``DCTDecode`` and ``JPXDecode``, with Pillow:

* the colour space decides what neutral means (vector_colour.py); a gray-family
  image is neutral without being decoded, and an ``/ImageMask`` paints with the
  fill colour (judged by the caller);
* ``Indexed``: only the palette entries the samples *use* count; a palette that
  holds red but whose image uses only gray entries is gray;
* ``Separation``/``DeviceN``: every distinct sample is run through the tint
  transform and judged in the alternate space;
* ``Decode`` arrays (§8.9.5.2) are honoured when every component shares one
  (the common ``[1 0 ...]`` inversion); other arrays are undecidable;
* a soft mask (``/SMask``, §11.6.5.3) of the image's own size hides the samples
  whose alpha is 0: a colour pixel that is fully transparent does not print;
  another size, or a colour-key ``/Mask``, makes a colour verdict undecidable;
* lossless data is judged exactly (a chroma of 1 is colour);  lossy data
  (JPEG, JPEG 2000) is colour when some pixel's chroma, max - min of its 8-bit
  R, G, B (or its C, M or Y, or its a*/b* scaled to 0-255), exceeds
  ``LOSSY_TOLERANCE``: JPEG's YCbCr rounding and ringing put a few levels of
  chroma into gray pictures, while a visible tint (a pale 10 % yellow is 25)
  stays colour.  A JPEG in an RGB or ICC space that is in fact gray is gray.

``judge(xobj, ...)`` returns True (colour) or False, or raises ``Undecidable``.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import pikepdf
from PIL import Image, ImageChops

from ippproxy.filters.functions import Undecidable
from ippproxy.filters.vector_colour import Space, resolve

LOSSY_TOLERANCE = 8           # out of 255; lossy image data only (see above)
MAX_PIXELS = 64_000_000       # larger images are left to the render
MAX_DISTINCT = 4096           # distinct DeviceN samples evaluated through a tint transform
_LOSSY = {"/DCTDecode", "/DCT", "/JPXDecode"}


def _filters(xobj: pikepdf.Object) -> list[str]:
    f = xobj.get("/Filter")
    if f is None:
        return []
    return [str(x) for x in f] if isinstance(f, pikepdf.Array) else [str(f)]


def is_lossy(xobj: pikepdf.Object) -> bool:
    return bool(set(_filters(xobj)) & _LOSSY)


def colour_map(img: Image.Image, tol: int) -> Image.Image:
    """An "L" image, 255 where a pixel of an RGB image has chroma above ``tol``."""
    r, g, b = img.split()[:3]
    chroma = ImageChops.lighter(ImageChops.lighter(ImageChops.difference(r, g),
                                                   ImageChops.difference(g, b)),
                                ImageChops.difference(r, b))
    return chroma.point(lambda v: 255 if v > tol else 0)


def _bands_map(img: Image.Image, bands: tuple[int, ...],
               test: Callable[[int], bool]) -> Image.Image:
    """255 where any of ``bands`` passes ``test`` (a per-value lookup)."""
    lut = [255 if test(v) else 0 for v in range(256)]
    out: Image.Image | None = None
    parts = img.split()
    for i in bands:
        m = parts[i].point(lut)
        out = m if out is None else ImageChops.lighter(out, m)
    assert out is not None
    return out


def _unpack(data: bytes, width: int, height: int, n: int, bpc: int) -> bytes:
    """Samples of 1, 2 or 4 bits as one byte each (rows are byte-aligned, §8.9.3)."""
    row = (width * n * bpc + 7) // 8
    if len(data) < row * height:
        raise Undecidable("short image data")
    per = 8 // bpc
    mask = (1 << bpc) - 1
    table = [bytes((b >> (8 - bpc * (k + 1))) & mask for k in range(per)) for b in range(256)]
    out = bytearray()
    count = width * n
    for y in range(height):
        chunk = b"".join(table[b] for b in data[y * row:(y + 1) * row])
        out += chunk[:count]
    return bytes(out)


def _decode_pair(xobj: pikepdf.Object, n: int) -> tuple[float, float] | None:
    """The one (Dmin, Dmax) all components share; None: the default (0, 1)."""
    d = xobj.get("/Decode")
    if d is None:
        return None
    vals = [float(v) for v in d]
    pairs = {(vals[2 * i], vals[2 * i + 1]) for i in range(min(n, len(vals) // 2))}
    if len(pairs) != 1:
        raise Undecidable("per-component Decode array")
    pair = pairs.pop()
    return None if pair == (0.0, 1.0) else pair


def _samples(xobj: pikepdf.Object, space: Space) -> tuple[Image.Image | bytes, int]:
    """(Pillow image or raw bytes of 8- or 16-bit samples, bits per component)."""
    w, h = int(xobj.get("/Width", 0)), int(xobj.get("/Height", 0))
    if w <= 0 or h <= 0 or w * h > MAX_PIXELS:
        raise Undecidable("image too large to judge by its samples")
    filters = _filters(xobj)
    try:
        if filters and filters[-1] in _LOSSY:
            if len(filters) != 1:
                raise Undecidable("a JPEG under another filter")
            raw = bytes(xobj.read_raw_bytes())
            img = Image.open(io.BytesIO(raw))
            img.load()
            return img, 8
        data = bytes(xobj.read_bytes())
    except (pikepdf.PdfError, OSError, ValueError, SyntaxError) as e:
        raise Undecidable(f"image data not decodable ({type(e).__name__})") from None
    bpc = int(xobj.get("/BitsPerComponent", 8))
    if bpc in (1, 2, 4):
        return _unpack(data, w, h, space.n, bpc), bpc
    if bpc not in (8, 16) or len(data) < w * h * space.n * bpc // 8:
        raise Undecidable("bad image data")
    return data[: w * h * space.n * bpc // 8], bpc


def _sample_map(xobj: pikepdf.Object, space: Space, tol: int) -> Image.Image | bool:
    """An "L" map of the colour pixels, or a plain verdict when no map is needed."""
    w, h = int(xobj.get("/Width", 0)), int(xobj.get("/Height", 0))
    samples, bpc = _samples(xobj, space)
    if isinstance(samples, Image.Image):
        img = samples
        if img.mode in ("L", "1", "LA", "I", "I;16"):
            return False
        if img.mode == "CMYK":
            # Pillow un-inverts an Adobe CMYK JPEG; the PDF's samples are the stored
            # (inverted) bytes, which a /Decode [1 0 ...] turns back (§8.9.5.2).
            inverted = ("adobe" in img.info) != (_decode_pair(xobj, 4) == (1.0, 0.0))
            return _bands_map(img, (0, 1, 2), (lambda v: v < 255 - tol) if inverted
                              else (lambda v: v > tol))
        return colour_map(img.convert("RGB"), tol)
    data, top = samples, (1 << bpc) - 1
    pair = _decode_pair(xobj, space.n)
    if bpc == 16:
        return _sixteen(data, space, pair)
    if space.family == "rgb":
        return colour_map(Image.frombytes("RGB", (w, h), data), tol)
    if space.family == "cmyk":
        zero = top if pair == (1.0, 0.0) else 0
        if pair not in (None, (1.0, 0.0)):
            raise Undecidable("CMYK image with a Decode array")
        return _bands_map(Image.frombytes("CMYK", (w, h), data), (0, 1, 2),
                          lambda v: v != zero)
    if pair is not None:
        raise Undecidable(f"{space.family} image with a Decode array")
    if space.family == "lab":
        a0, a1, b0, b1 = space.ranges
        img = Image.frombytes("RGB", (w, h), data)
        amap = _bands_map(img, (1,), lambda v: a0 + v * (a1 - a0) / top != 0)
        return ImageChops.lighter(amap, _bands_map(img, (2,), lambda v: b0 + v * (b1 - b0) / top != 0))
    if space.family in ("indexed", "separation"):
        if space.n == 1:
            img = Image.frombytes("L", (w, h), data)
            used = [v for v, c in enumerate(img.histogram()) if c]
            bad = {v for v in used if _value_colour(space, [v], top)}
            return _bands_map(img, (0,), lambda v: v in bad) if bad else False
        pixels = set(zip(*(data[i::space.n] for i in range(space.n))))
        if len(pixels) > MAX_DISTINCT:
            raise Undecidable("too many distinct DeviceN samples")
        return any(_value_colour(space, list(p), top) for p in pixels)
    raise Undecidable(f"image in colour space {space.family}")


def _value_colour(space: Space, raw: list[int], top: int) -> bool:
    if space.family == "indexed":
        return space.judge([float(raw[0])])
    return space.judge([v / top for v in raw])


def _sixteen(data: bytes, space: Space, pair: tuple[float, float] | None) -> bool:
    """Exact verdicts on 16-bit samples (lossless only) by byte strides."""
    n = space.n * 2
    if space.family == "rgb":
        return not (data[0::n] == data[2::n] == data[4::n] and data[1::n] == data[3::n] == data[5::n])
    if space.family == "cmyk" and pair is None:
        return any(data[i::n].strip(b"\0") for i in range(6))
    raise Undecidable(f"16-bit {space.family} image")


def _alpha(xobj: pikepdf.Object, w: int, h: int) -> Image.Image | None:
    """The soft mask as an "L" map (255 where alpha > 0) when it has the image's size."""
    smask = xobj.get("/SMask")
    if not isinstance(smask, pikepdf.Stream):
        return None
    if int(smask.get("/Width", 0)) != w or int(smask.get("/Height", 0)) != h:
        raise Undecidable("soft mask of another size")
    from ippproxy.filters.vector_colour import GRAY
    samples, bpc = _samples(smask, GRAY)
    img = samples if isinstance(samples, Image.Image) else \
        Image.frombytes("L", (w, h), samples[::2] if bpc == 16 else samples)
    return img.convert("L").point(lambda v: 255 if v > 0 else 0)


def judge(xobj: pikepdf.Object, resources: pikepdf.Object | None,
          cache: dict[tuple[int, int], Space]) -> bool:
    """True when the image prints a colour pixel (see the module docstring)."""
    if bool(xobj.get("/ImageMask", False)):
        return False
    cs = xobj.get("/ColorSpace")
    if cs is None:
        if "/JPXDecode" in _filters(xobj):
            space = Space("rgb", 3)
        else:
            raise Undecidable("image without a colour space")
    else:
        space = resolve(cs, resources, cache)
    if space.family == "gray":
        return False
    if space.family in ("separation",) and space.neutral_colorants:
        return False
    tol = LOSSY_TOLERANCE if is_lossy(xobj) else 0
    found = _sample_map(xobj, space, tol)
    if isinstance(found, bool):
        colour = found
        if colour and ("/SMask" in xobj or "/Mask" in xobj):
            raise Undecidable("masked DeviceN image")
        return colour
    if found.getbbox() is None:
        return False
    if "/Mask" in xobj:
        raise Undecidable("colour-key or stencil masked image")
    alpha = _alpha(xobj, found.width, found.height)
    if alpha is None:
        return True
    return ImageChops.darker(found, alpha).getbbox() is not None
