"""Plain text pagination: the layout ``convert.text_to_pdf`` prints with.

Text is forwarded as the PDF we make from it, so its page count is exact by
construction: Courier 10 pt on 12 pt leading with half-inch margins, lines
wrapped at ``columns``, a form feed starting a new page.  Text is never colour.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ippproxy.filters.model import PageSize

FONT_SIZE = 10.0
LEADING = 12.0
CHAR_WIDTH = 6.0      # Courier: 600/1000 em
MARGIN = 36.0


LETTER = PageSize(612.0, 792.0)


@dataclass(frozen=True)
class TextLayout:
    size: PageSize = LETTER

    @property
    def lines_per_page(self) -> int:
        return int((self.size.height - 2 * MARGIN) // LEADING)

    @property
    def columns(self) -> int:
        return int((self.size.width - 2 * MARGIN) // CHAR_WIDTH)


def paginate(text: str, layout: TextLayout | None = None) -> Iterator[list[str]]:
    """Yield the lines of each page (tabs expanded, long lines wrapped)."""
    layout = layout or DEFAULT_LAYOUT
    per_page, cols = layout.lines_per_page, layout.columns
    chunks = text.replace("\r\n", "\n").replace("\r", "\n").split("\f")
    if len(chunks) > 1 and not chunks[-1].strip("\n"):
        chunks.pop()      # a final form feed ends the last page; it adds none
    for chunk in chunks:
        page: list[str] = []
        raw = chunk.split("\n")
        if raw and raw[-1] == "":
            raw.pop()
        for line in raw:
            line = line.expandtabs(8)
            pieces = [line[i:i + cols] for i in range(0, len(line), cols)] or [""]
            for piece in pieces:
                page.append(piece)
                if len(page) == per_page:
                    yield page
                    page = []
        if page or not raw:
            yield page


DEFAULT_LAYOUT = TextLayout()


def count(text: str, layout: TextLayout | None = None) -> int:
    return sum(1 for _ in paginate(text, layout))
