"""JPEG and PNG: one page each; colour from the pixels (Pillow, a pikepdf dependency).

The printer scales an image onto the job's media, so the page size is
unknown here (``sizes == ()``); accounting uses the job's ``media``.  Every
pixel is judged at the image's own resolution, as image XObjects in a PDF are
(image_colour.py): a PNG exactly (one pixel of chroma 1 is colour; a fully
transparent pixel does not print), a JPEG with ``LOSSY_TOLERANCE`` for its
rounding noise.  Images over ``MAX_PIXELS`` are refused (decompression bombs).
"""

from __future__ import annotations

import warnings
from pathlib import Path

from PIL import Image, ImageChops

from ippproxy.filters.errors import FormatError
from ippproxy.filters.image_colour import LOSSY_TOLERANCE, colour_map

MAX_PIXELS = 200_000_000
_GRAY_MODES = {"1", "L", "LA", "I", "I;16", "F", "La"}


def is_colour(path: Path, fmt: str) -> bool:
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                expected = "JPEG" if fmt == "image/jpeg" else "PNG"
                if img.format != expected:
                    raise FormatError(f"the document is not a valid {fmt}")
                if img.width * img.height > MAX_PIXELS:
                    raise FormatError(f"image of {img.width}x{img.height} pixels is too large")
                if img.mode in _GRAY_MODES:
                    return False
                lossy = img.format == "JPEG"
                rgba = img.convert("RGBA")
                found = colour_map(rgba, LOSSY_TOLERANCE if lossy else 0)
                if not lossy and rgba.getchannel("A").getextrema()[0] == 0:
                    shown = rgba.getchannel("A").point(lambda v: 255 if v else 0)
                    found = ImageChops.darker(found, shown)
                return found.getbbox() is not None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise FormatError(f"image refused: {e}") from None
    except (OSError, SyntaxError, ValueError) as e:
        raise FormatError(f"the image cannot be decoded: {str(e)[:120]}") from None
