"""JPEG and PNG: one page each; colour from the pixels (Pillow, a pikepdf dependency).

The printer scales an image onto the job's media, so the page size is
unknown here (``sizes == ()``); accounting uses the job's ``media``.  JPEG is
decoded in draft mode (DCT scaling, at most ~512 px a side) and PNG through
a thumbnail, so the colour check costs little whatever the image size.
Images over ``MAX_PIXELS`` are refused (decompression bombs).
"""

from __future__ import annotations

import warnings
from pathlib import Path

from PIL import Image

from ippproxy.filters.colour import pixels_are_colour
from ippproxy.filters.errors import FormatError

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
                if img.format == "JPEG":
                    img.draft("RGB", (512, 512))
                else:
                    img.thumbnail((512, 512), Image.Resampling.NEAREST)
                rgb = img.convert("RGB")
                return pixels_are_colour(rgb.width, rgb.height, rgb.tobytes())
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise FormatError(f"image refused: {e}") from None
    except (OSError, SyntaxError, ValueError) as e:
        raise FormatError(f"the image cannot be decoded: {str(e)[:120]}") from None
