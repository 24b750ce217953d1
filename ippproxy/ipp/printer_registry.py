"""Syntaxes of the printer attributes a destination printer tells us (registry.py's twin
for what comes from printers rather than from clients).

Sources: RFC 8011 §5.2 (Job Template "-default"/"-supported"), §5.4 (Printer Description
and Status), PWG 5100.7 (media-col), 5100.13 (IPP Everywhere: marker-*, printer-supply,
identify-actions, print-*), 5100.9 (printer-alert), 5100.1 (finishings-col), 5100.3
(page-delivery, presentation-direction-number-up, feed-orientation), 5102.4 (pwg-raster-*).
Each entry gives the allowed value tags, 1setOf or single, the longest string (octets)
and the integer range (RFC 8011 §5.1.2 "integer(low:high)"). An attribute not listed
here is not one we pass on.
"""

from __future__ import annotations

from dataclasses import dataclass

from .registry import (
    BOOLEAN,
    COLLECTION,
    ENUM,
    INTEGER,
    KEYWORD,
    KEYWORD_OR_NAME,
    MIME,
    NAME,
    RANGE,
    RESOLUTION,
    TEXT,
    URI,
    _s,
)
from .tags import Tag

MAX_INT = 2**31 - 1            # RFC 8011 §5.1.21 integer: -2^31 .. 2^31-1
NON_NEGATIVE = (0, MAX_INT)
POSITIVE = (1, MAX_INT)
PERCENT = (-3, 100)            # marker-levels: -1 unknown, -2 unavailable, -3 some (5100.13)
OCTETS_OR_TEXT = _s(Tag.OCTET_STRING, Tag.TEXT)


@dataclass(frozen=True, slots=True)
class PrinterSyntax:
    """What the values of one printer attribute may be."""

    name: str
    tags: frozenset[int]
    set_of: bool = False
    max_length: int = 1023
    low: int = -MAX_INT - 1
    high: int = MAX_INT


def _job_template(name: str, tags: frozenset[int], supported: frozenset[int] | None = None,
                  rng: tuple[int, int] = (-MAX_INT - 1, MAX_INT)) -> list[PrinterSyntax]:
    """``name-default`` (one value) and ``name-supported`` (a set, or a range)."""
    return [PrinterSyntax(f"{name}-default", tags, False, 255, *rng),
            PrinterSyntax(f"{name}-supported", supported or tags, True, 255, *rng)]


_ENTRIES: list[PrinterSyntax] = [
    # RFC 8011 §5.2 and PWG 5100.13 Job Template attributes: -default / -supported
    *_job_template("copies", INTEGER, RANGE, POSITIVE),
    *_job_template("finishings", ENUM, rng=(3, 0xFFFF)),
    *_job_template("sides", KEYWORD),
    *_job_template("number-up", INTEGER, INTEGER | RANGE, POSITIVE),
    *_job_template("orientation-requested", ENUM, rng=(3, 7)),
    *_job_template("media", KEYWORD_OR_NAME),
    *_job_template("printer-resolution", RESOLUTION),
    *_job_template("print-quality", ENUM, rng=(3, 5)),
    *_job_template("output-bin", KEYWORD_OR_NAME),
    *_job_template("print-color-mode", KEYWORD),
    *_job_template("print-content-optimize", KEYWORD),
    *_job_template("print-rendering-intent", KEYWORD),
    *_job_template("print-scaling", KEYWORD),
    *_job_template("multiple-document-handling", KEYWORD),
    *_job_template("presentation-direction-number-up", KEYWORD),
    *_job_template("page-delivery", KEYWORD),
    *_job_template("feed-orientation", KEYWORD),
    *_job_template("identify-actions", KEYWORD),
    *_job_template("print-darkness", INTEGER, RANGE, (-100, 100)),
    *_job_template("finishings-col", COLLECTION, KEYWORD),
    PrinterSyntax("finishings-col-database", COLLECTION, True),
    PrinterSyntax("finishings-col-ready", COLLECTION, True),
    PrinterSyntax("finishings-ready", ENUM, True, low=3, high=0xFFFF),
    PrinterSyntax("orientation-requested-supported", ENUM, True, low=3, high=7),
    PrinterSyntax("page-ranges-supported", BOOLEAN),
    PrinterSyntax("landscape-orientation-requested-preferred", ENUM, low=4, high=5),
    # PWG 5100.7 media-col and its members' -supported
    PrinterSyntax("media-col-default", COLLECTION),
    PrinterSyntax("media-col-ready", COLLECTION, True),
    PrinterSyntax("media-col-database", COLLECTION, True),
    PrinterSyntax("media-col-supported", KEYWORD, True, 255),
    PrinterSyntax("media-ready", KEYWORD_OR_NAME, True, 255),
    PrinterSyntax("media-size-supported", COLLECTION, True),
    PrinterSyntax("media-source-supported", KEYWORD_OR_NAME, True, 255),
    PrinterSyntax("media-type-supported", KEYWORD_OR_NAME, True, 255),
    PrinterSyntax("media-color-supported", KEYWORD_OR_NAME, True, 255),
    PrinterSyntax("media-key-supported", KEYWORD_OR_NAME, True, 255),
    PrinterSyntax("media-source-properties-supported", COLLECTION, True),
    *(PrinterSyntax(f"media-{edge}-margin-supported", INTEGER, True, low=0, high=MAX_INT)
      for edge in ("bottom", "left", "right", "top")),
    PrinterSyntax("media-left-offset-supported", INTEGER | RANGE, True),
    PrinterSyntax("media-top-offset-supported", INTEGER | RANGE, True),
    PrinterSyntax("media-weight-metric-supported", INTEGER | RANGE, True, low=0),
    PrinterSyntax("media-thickness-supported", INTEGER | RANGE, True, low=0),
    PrinterSyntax("media-overprint-supported", KEYWORD, True, 255),
    # RFC 8011 §5.4 Printer Description, PWG 5100.13
    PrinterSyntax("color-supported", BOOLEAN),
    PrinterSyntax("pages-per-minute", INTEGER, low=0, high=MAX_INT),
    PrinterSyntax("pages-per-minute-color", INTEGER, low=0, high=MAX_INT),
    PrinterSyntax("printer-make-and-model", TEXT, max_length=127),
    PrinterSyntax("printer-device-id", TEXT, max_length=1023),
    PrinterSyntax("printer-kind", KEYWORD_OR_NAME, True, 255),
    # Apple raster capabilities: keywords in the registry, but real printers send them in
    # upper case ("V1.4", "W8", "SRGB24", "RS300-600"): case is kept (server/destination_caps.py).
    PrinterSyntax("urf-supported", KEYWORD, True, 255),
    # Mopria: certification level (text, "1.3"), PCLm 1.0 §5 raster parameters
    PrinterSyntax("mopria-certified", TEXT, max_length=127),
    PrinterSyntax("pclm-compression-method-preferred", KEYWORD, True, 255),
    PrinterSyntax("pclm-raster-back-side", KEYWORD, max_length=255),
    PrinterSyntax("pclm-source-resolution-default", RESOLUTION),
    PrinterSyntax("pclm-source-resolution-supported", RESOLUTION, True),
    PrinterSyntax("pclm-strip-height-preferred", INTEGER, True, low=1, high=MAX_INT),
    PrinterSyntax("pclm-strip-height-supported", INTEGER, True, low=1, high=MAX_INT),
    PrinterSyntax("printer-output-tray", OCTETS_OR_TEXT, True),
    PrinterSyntax("printer-input-tray", OCTETS_OR_TEXT, True),
    PrinterSyntax("jpeg-k-octets-supported", RANGE, low=0),
    PrinterSyntax("jpeg-x-dimension-supported", RANGE, low=0),
    PrinterSyntax("jpeg-y-dimension-supported", RANGE, low=0),
    PrinterSyntax("pdf-k-octets-supported", RANGE, low=0),
    PrinterSyntax("pdf-versions-supported", KEYWORD, True, 255),
    PrinterSyntax("pdf-fit-to-page-supported", BOOLEAN),
    PrinterSyntax("pwg-raster-document-resolution-supported", RESOLUTION, True),
    PrinterSyntax("pwg-raster-document-sheet-back", KEYWORD, max_length=255),
    PrinterSyntax("pwg-raster-document-type-supported", KEYWORD, True, 255),
    # RFC 8011 §5.4.11-13 and PWG 5100.13 / 5100.9 status
    PrinterSyntax("printer-state", ENUM, low=3, high=5),
    PrinterSyntax("printer-state-reasons", KEYWORD, True, 255),
    PrinterSyntax("printer-state-message", TEXT, max_length=1023),
    PrinterSyntax("printer-is-accepting-jobs", BOOLEAN),
    PrinterSyntax("marker-colors", NAME, True, 255),
    PrinterSyntax("marker-names", NAME, True, 255),
    PrinterSyntax("marker-types", KEYWORD, True, 255),
    PrinterSyntax("marker-levels", INTEGER, True, low=PERCENT[0], high=PERCENT[1]),
    PrinterSyntax("marker-high-levels", INTEGER, True, low=0, high=100),
    PrinterSyntax("marker-low-levels", INTEGER, True, low=0, high=100),
    PrinterSyntax("marker-change-time", INTEGER, low=0),
    PrinterSyntax("printer-supply", OCTETS_OR_TEXT, True),
    PrinterSyntax("printer-supply-description", TEXT, True),
    PrinterSyntax("printer-supply-info-uri", URI),
    PrinterSyntax("printer-alert", OCTETS_OR_TEXT, True),
    PrinterSyntax("printer-alert-description", TEXT, True),
    # RFC 8011 §5.4 attributes our own description builds on (formats, operations)
    PrinterSyntax("document-format-supported", MIME, True, 255),
    PrinterSyntax("operations-supported", ENUM, True, low=1, high=0xFFFF),
]

PRINTER_SYNTAXES: dict[str, PrinterSyntax] = {s.name: s for s in _ENTRIES}
# How many values one attribute of a printer may have: a big MFP's media-col-database
# has several hundred entries.
MAX_PRINTER_VALUES = 1000


def printer_syntax(name: str) -> PrinterSyntax | None:
    """The syntax of a printer attribute we know, or None."""
    return PRINTER_SYNTAXES.get(name)

