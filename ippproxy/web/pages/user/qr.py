"""A QR code as inline SVG, made on the server (segno; ISO/IEC 18004), for a phone's
camera to take a personal printer URL from the screen. Accessible: ``role="img"`` named
by its ``<title>`` (the URL itself, escaped by segno)."""

from __future__ import annotations

import segno
from markupsafe import Markup


def qr_svg(text: str, element_id: str) -> Markup:
    """``element_id``: letters, digits and dashes only (made by the caller, not a client)."""
    if not element_id.replace("-", "").isalnum():
        raise ValueError("element id: letters, digits and dashes")
    svg = segno.make(text, error="m").svg_inline(scale=4, title=text, svgid=element_id,
                                                 omitsize=True)
    title = f"{element_id}-t"
    svg = svg.replace("<svg ", f'<svg role="img" aria-labelledby="{title}" ', 1)
    svg = svg.replace("<title>", f'<title id="{title}">', 1)
    return Markup(svg)   # segno escapes the text; the id is checked above
