"""The virtual printer's IPP Everywhere capability set (shape of ippeveprinter's ``all``).

``capabilities(...)`` returns the static printer attributes (PWG 5100.14 IPP
Everywhere, RFC 8011 §5.4) in wire order; the server adds the dynamic ones
(printer-state*, queued-job-count, printer-up-time, marker levels, time).
``media-col-database`` is only sent when asked for by name (RFC 8011 §4.2.5.1,
OpenPrinting/cups#1343), see ``EXPLICIT_ONLY``.
"""

from __future__ import annotations

from collections.abc import Iterable

from ippproxy.ipp import Attribute, Collection, Operation, RangeOfInteger, Resolution, Tag

FORMATS = ("application/pdf", "application/postscript", "image/pwg-raster", "image/urf",
           "image/jpeg", "application/octet-stream")
OPERATIONS = (Operation.PRINT_JOB, Operation.VALIDATE_JOB, Operation.CREATE_JOB,
              Operation.SEND_DOCUMENT, Operation.CANCEL_JOB, Operation.GET_JOB_ATTRIBUTES,
              Operation.GET_JOBS, Operation.GET_PRINTER_ATTRIBUTES)
EXPLICIT_ONLY = frozenset({"media-col-database"})

# (media keyword, x, y in hundredths of mm, left/right margin)
_MEDIA = (("iso_a4_210x297mm", 21000, 29700, 340), ("na_letter_8.5x11in", 21590, 27940, 635),
          ("na_legal_8.5x14in", 21590, 35560, 635), ("iso_a5_148x210mm", 14800, 21000, 340),
          ("na_number-10_4.125x9.5in", 10477, 24130, 635))
_MARGIN = 635


def kw(name: str, *values: str) -> Attribute:
    return Attribute.multi(name, Tag.KEYWORD, values)


def integer(name: str, *values: int) -> Attribute:
    return Attribute.multi(name, Tag.INTEGER, values)


def enum(name: str, *values: int) -> Attribute:
    return Attribute.multi(name, Tag.ENUM, [int(v) for v in values])


def text(name: str, value: str) -> Attribute:
    return Attribute.single(name, Tag.TEXT, value)


def boolean(name: str, value: bool) -> Attribute:
    return Attribute.single(name, Tag.BOOLEAN, value)


def media_col(keyword: str, x: int, y: int, lr: int, source: str | None = None) -> Collection:
    size = Collection((integer("x-dimension", x), integer("y-dimension", y)))
    members = [
        kw("media-key", keyword if source is None else f"{keyword}_{source}"),
        Attribute.single("media-size", Tag.BEGIN_COLLECTION, size),
        kw("media-size-name", keyword),
        integer("media-bottom-margin", _MARGIN), integer("media-left-margin", lr),
        integer("media-right-margin", lr), integer("media-top-margin", _MARGIN),
    ]
    if source is not None:
        members += [kw("media-source", source), kw("media-type", "stationery")]
    return Collection(tuple(members))


def supplies(level: int) -> tuple[Attribute, ...]:
    """The toner's level as marker-levels (RFC 3805 prtMarkerSuppliesLevel, a percentage
    here) and as printer-supply (PWG 5100.13: the Printer MIB supply row as
    ``key=value;`` pairs) with its printer-supply-description, the same count each."""
    row = (f"index=1;class=supplyThatIsConsumed;type=toner;unit=percent;maxcapacity=100;"
           f"level={level};colorantname=black;")
    return (integer("marker-levels", level),
            Attribute.single("printer-supply", Tag.OCTET_STRING, row.encode("ascii")),
            text("printer-supply-description", "Black Toner"))


def _collections(name: str, values: Iterable[Collection]) -> Attribute:
    return Attribute.multi(name, Tag.BEGIN_COLLECTION, values)


def capabilities(*, name: str, uuid: str, uris: tuple[str, ...], color: bool, duplex: bool,
                 formats: tuple[str, ...] = FORMATS) -> tuple[Attribute, ...]:
    """The static printer-description and job-template attributes."""
    modes = ("monochrome", "color", "auto") if color else ("monochrome",)
    sides = ("one-sided", "two-sided-long-edge", "two-sided-short-edge") if duplex \
        else ("one-sided",)
    a4 = _MEDIA[0]
    make = "ippproxy Virtual Printer"
    return (
        # RFC 8011 §5.4: printer description
        Attribute.multi("printer-uri-supported", Tag.URI, uris),
        kw("uri-security-supported", *("none" for _ in uris)),
        kw("uri-authentication-supported", *("none" for _ in uris)),
        Attribute.single("printer-name", Tag.NAME, name),
        text("printer-info", name), text("printer-location", ""),
        text("printer-make-and-model", make),
        text("printer-device-id", "MFG:ippproxy;MDL:Virtual Printer;CMD:PDF,PS,PWG,URF,JPEG;"),
        Attribute.single("printer-uuid", Tag.URI, uuid),
        Attribute.single("printer-more-info", Tag.URI,
                         uris[0].replace("ipp://", "http://", 1).rsplit("/ipp/", 1)[0] + "/"),
        kw("ipp-versions-supported", "1.1", "2.0"),
        kw("ipp-features-supported", "ipp-everywhere"),
        enum("operations-supported", *OPERATIONS),
        Attribute.single("charset-configured", Tag.CHARSET, "utf-8"),
        Attribute.multi("charset-supported", Tag.CHARSET, ("us-ascii", "utf-8")),
        Attribute.single("natural-language-configured", Tag.NATURAL_LANGUAGE, "en"),
        Attribute.single("generated-natural-language-supported", Tag.NATURAL_LANGUAGE, "en"),
        Attribute.single("document-format-default", Tag.MIME_MEDIA_TYPE,
                         "application/octet-stream"),
        Attribute.multi("document-format-supported", Tag.MIME_MEDIA_TYPE, formats),
        kw("compression-supported", "none", "gzip", "deflate"),
        kw("pdl-override-supported", "attempted"),
        boolean("color-supported", color),
        kw("which-jobs-supported", "completed", "not-completed", "all"),
        boolean("job-ids-supported", True),
        boolean("multiple-document-jobs-supported", False),
        integer("multiple-operation-time-out", 60),
        kw("multiple-operation-time-out-action", "abort-job"),
        integer("pages-per-minute", 30),
        kw("job-creation-attributes-supported", "copies", "finishings", "job-name",
           "media", "media-col", "orientation-requested", "output-bin", "page-ranges",
           "print-color-mode", "print-quality", "printer-resolution", "sides",
           "job-uuid"),
        kw("printer-get-attributes-supported", "document-format"),
        kw("marker-types", "toner"),
        Attribute.single("marker-colors", Tag.NAME, "#000000"),
        Attribute.single("marker-names", Tag.NAME, "Black Toner"),
        integer("marker-low-levels", 5), integer("marker-high-levels", 100),
        kw("urf-supported", "V1.4", "W8", "SRGB24" if color else "CP1", "RS300-600", "DM1",
           "IS1-4-5", "MT1-2-3"),
        kw("pwg-raster-document-type-supported", "black_1", "sgray_8",
           *(("srgb_8",) if color else ())),
        Attribute.multi("pwg-raster-document-resolution-supported", Tag.RESOLUTION,
                        (Resolution(300, 300), Resolution(600, 600))),
        kw("pwg-raster-document-sheet-back", "normal"),
        # RFC 8011 §5.2 / PWG 5100.7: job template
        integer("copies-default", 1),
        Attribute.single("copies-supported", Tag.RANGE_OF_INTEGER, RangeOfInteger(1, 999)),
        enum("finishings-default", 3), enum("finishings-supported", 3),
        kw("media-default", a4[0]), kw("media-ready", a4[0], _MEDIA[1][0]),
        kw("media-supported", *(m[0] for m in _MEDIA)),
        _collections("media-col-database", (media_col(*m) for m in _MEDIA)),
        Attribute.single("media-col-default", Tag.BEGIN_COLLECTION, media_col(*a4, "main")),
        _collections("media-col-ready", (media_col(*a4, "main"),)),
        kw("media-col-supported", "media-bottom-margin", "media-left-margin",
           "media-right-margin", "media-size", "media-size-name", "media-source",
           "media-top-margin", "media-type"),
        _collections("media-size-supported", (
            Collection((integer("x-dimension", m[1]), integer("y-dimension", m[2])))
            for m in _MEDIA)),
        integer("media-bottom-margin-supported", 0, _MARGIN),
        integer("media-top-margin-supported", 0, _MARGIN),
        integer("media-left-margin-supported", 340, _MARGIN),
        integer("media-right-margin-supported", 340, _MARGIN),
        kw("media-source-supported", "auto", "main", "manual"),
        kw("media-type-supported", "auto", "stationery", "envelope", "labels"),
        enum("orientation-requested-default", 3),
        enum("orientation-requested-supported", 3, 4, 5, 6),
        kw("output-bin-default", "face-down"), kw("output-bin-supported", "face-down"),
        boolean("page-ranges-supported", True),
        kw("print-color-mode-default", modes[-1] if color else "monochrome"),
        kw("print-color-mode-supported", *modes),
        enum("print-quality-default", 4), enum("print-quality-supported", 3, 4, 5),
        Attribute.single("printer-resolution-default", Tag.RESOLUTION, Resolution(600, 600)),
        Attribute.multi("printer-resolution-supported", Tag.RESOLUTION,
                        (Resolution(300, 300), Resolution(600, 600))),
        kw("sides-default", "one-sided"), kw("sides-supported", *sides),
        Attribute.single("job-sheets-default", Tag.NAME, "none"),
        Attribute.single("job-sheets-supported", Tag.NAME, "none"),
        kw("multiple-document-handling-supported", "separate-documents-uncollated-copies",
           "separate-documents-collated-copies"),
    )
