"""What a queue takes over from its destination printer, and the fallback when it is unknown.

A queue's job-template capabilities (media, sides, colour modes, resolutions, finishings,
...) and its marker/supply status are the destination printer's own, from the forwarding
client's cached Get-Printer-Attributes. Values are untrusted: text and names are stripped of
control characters and capped (RFC 8011 §5.1.2-3), keywords must match the keyword syntax
(RFC 8011 §5.1.4), and the number of values per attribute is bounded. Anything a real
printer leaves out that IPP/2.0 requires (PWG 5100.12 §6.2) comes from ``FALLBACK``.
"""

from __future__ import annotations

import re

from ippproxy.ipp import Attribute, Collection, Resolution, StringWithLanguage, Tag, Value
from ippproxy.server import attrs as A
from ippproxy.server.sanitize import MAX_NAME, MAX_TEXT, MAX_URI, clean_text

MAX_VALUES = 2000       # media-col-database of a big MFP has several hundred entries
_KEYWORD = re.compile(r"^[a-z0-9][a-zA-Z0-9._-]{0,254}$")

# Attributes copied from the destination (exact names, or prefixes ending in "-").
PASS_NAMES = frozenset({
    "color-supported", "pages-per-minute", "pages-per-minute-color", "page-ranges-supported",
    "printer-make-and-model", "urf-supported", "printer-output-tray", "printer-input-tray",
    "printer-device-id", "printer-kind", "landscape-orientation-requested-preferred",
    "finishings-default", "finishings-supported", "finishings-col-default",
    "finishings-col-supported", "finishings-col-database", "finishings-col-ready",
    "printer-supply", "printer-supply-description", "printer-supply-info-uri",
    "printer-alert", "printer-alert-description",
})
PASS_PREFIXES = (
    "media-", "sides-", "print-color-mode-", "printer-resolution-", "copies-",
    "print-quality-", "orientation-requested-", "output-bin-", "number-up-",
    "print-scaling-", "print-content-optimize-", "print-rendering-intent-", "marker-",
    "pwg-raster-document-", "jpeg-", "pdf-", "multiple-document-handling-",
    "presentation-direction-number-up-", "page-delivery-", "print-darkness-",
    "identify-actions-", "feed-orientation-",
)


def passes(name: str) -> bool:
    return name in PASS_NAMES or name.startswith(PASS_PREFIXES)


def _clean_value(tag: int, value: Value) -> Value | None:
    if tag in (Tag.TEXT, Tag.TEXT_WITH_LANGUAGE) and isinstance(value, str):
        return clean_text(value, MAX_TEXT)
    if tag in (Tag.NAME, Tag.NAME_WITH_LANGUAGE) and isinstance(value, str):
        return clean_text(value, MAX_NAME)
    if tag == Tag.URI and isinstance(value, str):
        return clean_text(value, MAX_URI)
    if tag == Tag.KEYWORD:
        return value if isinstance(value, str) and _KEYWORD.match(value) else None
    if isinstance(value, Collection):
        return Collection(tuple(c for m in value.attributes if (c := clean(m)) is not None))
    if isinstance(value, StringWithLanguage):
        return StringWithLanguage(value.language, clean_text(value.text, MAX_TEXT))
    return value


def clean(attr: Attribute) -> Attribute | None:
    """A sanitised copy of a destination attribute, or None when nothing valid is left."""
    values: list[tuple[int, Value]] = []
    for tag, value in attr.values[:MAX_VALUES]:
        v = _clean_value(tag, value)
        if v is not None:
            values.append((tag, v))
    if not values or not _KEYWORD.match(attr.name):
        return None
    return Attribute(attr.name, tuple(values))


# The destination's attributes change only when the forwarding client refreshes its cache:
# remember the sanitised result for the last few tuples seen (by identity).
_SANITISED: dict[int, tuple[tuple[Attribute, ...], dict[str, Attribute]]] = {}


def from_destination(dest: tuple[Attribute, ...] | None) -> dict[str, Attribute]:
    """The pass-through attributes of the destination, sanitised, by name."""
    if dest is None:
        return {}
    hit = _SANITISED.get(id(dest))
    if hit is not None and hit[0] is dest:
        return hit[1]
    out = _sanitise(dest)
    if len(_SANITISED) >= 64:
        _SANITISED.clear()
    _SANITISED[id(dest)] = (dest, out)
    return out


def _sanitise(dest: tuple[Attribute, ...]) -> dict[str, Attribute]:
    out: dict[str, Attribute] = {}
    for a in dest:
        if passes(a.name) and a.name not in out:
            c = clean(a)
            if c is not None:
                out[a.name] = c
    return out


def _media_size(x: int, y: int) -> Collection:
    return Collection((A.integer("x-dimension", x), A.integer("y-dimension", y)))


def _media_col(x: int, y: int) -> list[Attribute]:
    return [A.collection("media-size", [A.integer("x-dimension", x),
                                        A.integer("y-dimension", y)]),
            A.integer("media-bottom-margin", 423), A.integer("media-left-margin", 423),
            A.integer("media-right-margin", 423), A.integer("media-top-margin", 423),
            A.keyword("media-source", "main"), A.keyword("media-type", "stationery")]


# Used when the destination does not say (or was never reachable): a plain A4/Letter
# monochrome-capable printer, enough for IPP/2.0 (PWG 5100.12 §6.2) and IPP Everywhere.
FALLBACK: dict[str, Attribute] = {a.name: a for a in (
    A.boolean("color-supported", False),
    A.integer("copies-default", 1), A.range_("copies-supported", 1, 999),
    A.enum("finishings-default", 3), A.enum("finishings-supported", 3),
    A.keyword("media-default", "iso_a4_210x297mm"),
    A.keyword("media-ready", "iso_a4_210x297mm"),
    A.keyword("media-supported", "iso_a4_210x297mm", "na_letter_8.5x11in"),
    A.collection("media-col-default", _media_col(21000, 29700)),
    A.collection("media-col-ready", _media_col(21000, 29700)),
    A.collection("media-col-database", _media_col(21000, 29700), _media_col(21590, 27940)),
    A.keyword("media-col-supported", "media-bottom-margin", "media-left-margin",
              "media-right-margin", "media-size", "media-source", "media-top-margin",
              "media-type"),
    Attribute.multi("media-size-supported", Tag.BEGIN_COLLECTION,
                    [_media_size(21000, 29700), _media_size(21590, 27940)]),
    A.integer("media-bottom-margin-supported", 423),
    A.integer("media-left-margin-supported", 423),
    A.integer("media-right-margin-supported", 423),
    A.integer("media-top-margin-supported", 423),
    A.keyword("media-source-supported", "main"),
    A.keyword("media-type-supported", "stationery"),
    A.enum("orientation-requested-default", 3),
    A.enum("orientation-requested-supported", 3, 4, 5, 6),
    A.keyword("output-bin-default", "face-down"), A.keyword("output-bin-supported", "face-down"),
    A.enum("print-quality-default", 4), A.enum("print-quality-supported", 3, 4, 5),
    A.resolution("printer-resolution-default", Resolution(300, 300, 3)),
    A.resolution("printer-resolution-supported", Resolution(300, 300, 3)),
    A.keyword("sides-default", "one-sided"), A.keyword("sides-supported", "one-sided"),
    A.keyword("print-color-mode-default", "monochrome"),
    A.keyword("print-color-mode-supported", "auto", "monochrome"),
    A.integer("number-up-default", 1), A.integer("number-up-supported", 1),
    A.boolean("page-ranges-supported", False),
    A.integer("pages-per-minute", 1),
    A.keyword("multiple-document-handling-default", "separate-documents-uncollated-copies"),
    A.keyword("multiple-document-handling-supported", "separate-documents-uncollated-copies",
              "separate-documents-collated-copies"),
    A.text("printer-make-and-model", "ippproxy queue"),
    A.keyword("identify-actions-default", "display"),
    A.keyword("identify-actions-supported", "display"),
    A.keyword("print-content-optimize-default", "auto"),
    A.keyword("print-content-optimize-supported", "auto"),
    A.keyword("print-rendering-intent-default", "auto"),
    A.keyword("print-rendering-intent-supported", "auto"),
    A.keyword("print-scaling-default", "auto"),
    A.keyword("print-scaling-supported", "auto", "none"),
    A.text("printer-device-id", "MFG:ippproxy;MDL:queue;CMD:PDF;"),
)}
