"""Results of document analysis: frozen data, no I/O.

Sizes are in PostScript points (1/72 inch) as the page is printed, i.e. after
a PDF ``/Rotate``.  ``pages is None`` means *unknown* (we could not count and
say so); it is never a guess.  Page numbers are 1-based, like IPP ``page-ranges``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MM = 72 / 25.4  # points per millimetre

# PWG 5101.1 self-describing media names: (name, short side pt, long side pt).
_MEDIA: tuple[tuple[str, float, float], ...] = (
    ("iso_a3_297x420mm", 297 * MM, 420 * MM),
    ("iso_a4_210x297mm", 210 * MM, 297 * MM),
    ("iso_a5_148x210mm", 148 * MM, 210 * MM),
    ("iso_a6_105x148mm", 105 * MM, 148 * MM),
    ("iso_b5_176x250mm", 176 * MM, 250 * MM),
    ("jis_b5_182x257mm", 182 * MM, 257 * MM),
    ("na_letter_8.5x11in", 612.0, 792.0),
    ("na_legal_8.5x14in", 612.0, 1008.0),
    ("na_ledger_11x17in", 792.0, 1224.0),
    ("na_executive_7.25x10.5in", 522.0, 756.0),
    ("na_index-4x6_4x6in", 288.0, 432.0),
)
_TOLERANCE = 3.0  # points: raster rounding, PDF producers' 595 vs 595.28


@dataclass(frozen=True)
class PageSize:
    width: float
    height: float

    @property
    def media(self) -> str:
        """The PWG 5101.1 media name (orientation ignored); ``custom_...`` if unknown."""
        short, long_ = sorted((self.width, self.height))
        for name, s, l_ in _MEDIA:
            if abs(short - s) <= _TOLERANCE and abs(long_ - l_) <= _TOLERANCE:
                return name
        w, h = round(short / MM), round(long_ / MM)
        return f"custom_{w}x{h}mm_{w}x{h}mm"


# The stage names of ``DocumentAnalysis.stages``: waiting for an idle worker; the pipe
# round trip minus the time inside the worker; inside it, reading the request (bytes
# sent inline are decoded), opening the PDF, counting its pages, the content scan
# (pdfscan.py), writing a file for Ghostscript (a document sent inline) and the render.
STAGES = ("queue", "ipc", "request", "open", "count", "scan", "write", "render")


@dataclass(frozen=True)
class DocumentAnalysis:
    """What one document prints: the input of ``accounting.count_job``."""

    format: str
    pages: int | None
    page_sizes: tuple[PageSize, ...] = ()
    # 1-based numbers of the colour pages; None when colour was not (or could not be) determined.
    colour_pages: tuple[int, ...] | None = None
    # How the figures were obtained, e.g. ("pikepdf", "content-scan", "gs-render:3").
    methods: tuple[str, ...] = ()
    # Remarks worth logging, e.g. a DSC %%Pages comment that disagrees with the interpreter.
    notes: tuple[str, ...] = ()
    seconds: float = 0.0
    # Where the time went, in order: (stage, seconds), e.g. ("open", ..), ("scan", ..),
    # ("render", ..) inside the worker and ("queue", ..), ("ipc", ..) added by the pool
    # (STAGES). A timing record, not a property of the document: not compared.
    stages: tuple[tuple[str, float], ...] = field(default=(), compare=False)

    @property
    def colour_known(self) -> bool:
        return self.colour_pages is not None

    def is_colour(self, page: int) -> bool | None:
        if self.colour_pages is None:
            return None
        return page in self.colour_pages
