"""What a queue takes over from its destination printer, and the fallback when it is unknown.

A queue's job-template capabilities (media, sides, colour modes, resolutions, finishings,
...) and its marker/supply status are the destination printer's own, from the forwarding
client's cached Get-Printer-Attributes. Values are untrusted (the CVE-2024-47175 pattern:
printer text ending up in what we generate): only attributes the printer registry knows
pass (``ipp.printer_registry``), each value with a tag the registry allows; text and names
lose control and bidi-override characters and are cut (RFC 8011 §5.1.2-3), keywords must
match the keyword syntax (RFC 8011 §5.1.4), integers outside the registered range are
dropped and ranges clamped to it, and the values per attribute (``MAX_PRINTER_VALUES``)
and attributes per printer (``MAX_ATTRIBUTES``) are bounded. Anything a real
printer leaves out that IPP/2.0 requires (PWG 5100.12 §6.2) comes from ``FALLBACK``.
"""

from __future__ import annotations

import re

from ippproxy.ipp import (
    Attribute,
    Collection,
    RangeOfInteger,
    Resolution,
    StringWithLanguage,
    Tag,
    Value,
)
from ippproxy.ipp.printer_registry import (
    MAX_PRINTER_VALUES,
    PRINTER_SYNTAXES,
    PrinterSyntax,
    printer_syntax,
)
from ippproxy.server import attrs as A
from ippproxy.server.sanitize import MAX_NAME, MAX_TEXT, MAX_URI, clean_text

_KEYWORD = re.compile(r"^[a-z0-9][a-zA-Z0-9._-]{0,254}$")
_PRINTABLE = re.compile(rb"^[ -~]*$")
_MIME = re.compile(r"^[!-~]{1,255}$")        # RFC 8011 §5.1.10: printable US-ASCII
# urf-supported values as printers send them: upper-case letters, digits, "." and "-"
# ("V1.4", "RS300-600", "IS1-4-5"); lower case is accepted too, and kept as sent.
_URF = re.compile(r"^[A-Za-z][A-Za-z0-9.-]{0,63}$")
_CASE_KEPT = frozenset({"urf-supported"})
# Of the attributes the registry knows, these describe the queue, not the device: ours.
OWN_NAMES = frozenset({"printer-state", "printer-state-reasons", "printer-state-message",
                       "printer-is-accepting-jobs", "document-format-supported",
                       "operations-supported"})
# At most this many of the destination's attributes are passed on (the registry has fewer).
MAX_ATTRIBUTES = 200
_STRINGS = frozenset({Tag.TEXT, Tag.TEXT_WITH_LANGUAGE, Tag.NAME, Tag.NAME_WITH_LANGUAGE})
_LONGEST: dict[int, int] = {Tag.TEXT: MAX_TEXT, Tag.TEXT_WITH_LANGUAGE: MAX_TEXT, Tag.NAME: MAX_NAME,
            Tag.NAME_WITH_LANGUAGE: MAX_NAME}


def passes(name: str) -> bool:
    """Whether a destination attribute of this name reaches our clients."""
    return name in PRINTER_SYNTAXES and name not in OWN_NAMES


def _in(n: int, low: int, high: int) -> bool:
    return low <= n <= high


def _clean_value(tag: int, value: Value, syntax: PrinterSyntax | None) -> Value | None:
    """A checked value (RFC 8011 §5.1 syntaxes), cut or clamped, or None to drop it."""
    low, high = (syntax.low, syntax.high) if syntax is not None else (-2**31, 2**31 - 1)
    if tag in _STRINGS:
        limit = min(_LONGEST[tag], syntax.max_length if syntax is not None else MAX_TEXT)
        if isinstance(value, StringWithLanguage):
            text = clean_text(value.text, limit)
            return StringWithLanguage(value.language, text) if text else None
        return (clean_text(value, limit) or None) if isinstance(value, str) else None
    if tag == Tag.URI:
        return value if isinstance(value, str) and clean_text(value, MAX_URI) == value \
            and value else None
    if tag in (Tag.KEYWORD, Tag.MIME_MEDIA_TYPE):
        pattern = _KEYWORD if tag == Tag.KEYWORD else _MIME
        return value if isinstance(value, str) and pattern.match(value) else None
    if tag in (Tag.INTEGER, Tag.ENUM):
        return value if type(value) is int and _in(value, low, high) else None
    if tag == Tag.RANGE_OF_INTEGER:
        if not isinstance(value, RangeOfInteger):
            return None
        lower, upper = max(value.lower, low), min(value.upper, high)   # clamped
        return RangeOfInteger(lower, upper) if lower <= upper else None
    if tag == Tag.BOOLEAN:
        return value if isinstance(value, bool) else None
    if tag == Tag.RESOLUTION:
        ok = isinstance(value, Resolution) and value.x > 0 and value.y > 0 \
            and value.units in (3, 4)
        return value if ok else None
    if tag == Tag.OCTET_STRING:      # printer-supply, -alert, -input-tray: US-ASCII key=value
        printable = isinstance(value, bytes) and len(value) <= MAX_TEXT \
            and _PRINTABLE.match(value) is not None
        return value if printable else None
    if isinstance(value, Collection):
        members = tuple(c for m in value.attributes[:MAX_PRINTER_VALUES]
                        if (c := _clean_member(m)) is not None)
        return Collection(members) if members else None
    return None


def _clean_member(attr: Attribute) -> Attribute | None:
    if not _KEYWORD.match(attr.name):
        return None
    values = tuple((t, c) for t, v in attr.values[:MAX_PRINTER_VALUES]
                   if (c := _clean_value(t, v, None)) is not None)
    return Attribute(attr.name, values) if values else None


def clean(attr: Attribute) -> Attribute | None:
    """A checked copy of a destination attribute, or None when it is not one we know
    (``printer_registry``) or no valid value is left. Values with a tag the registry
    does not allow are dropped (a ``media-type-supported`` sent as mimeMediaType)."""
    syntax = printer_syntax(attr.name)
    if syntax is None:
        return None
    values: list[tuple[int, Value]] = []
    for tag, value in attr.values[:MAX_PRINTER_VALUES]:
        if tag not in syntax.tags:
            continue
        if attr.name in _CASE_KEPT:
            if isinstance(value, str) and _URF.match(value):
                values.append((tag, value))
            continue
        v = _clean_value(tag, value, syntax)
        if v is not None:
            values.append((tag, v))
    if not values:
        return None
    return Attribute(attr.name, tuple(values if syntax.set_of else values[:1]))


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
        if len(out) >= MAX_ATTRIBUTES:
            break
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
