"""Attribute syntaxes of the operation and Job Template attributes clients send.

Sources: RFC 8011 §4.2-§4.3 (operation attributes) and §5.2 (Job Template), RFC 8011 §5.1
(syntax maxima), PWG 5100.7 (Job Extensions), 5100.11 (Enterprise Printing Extensions),
5100.13 (IPP Everywhere / Job and Printer Extensions 3), 5100.3 (Production Printing), 5100.16.

Used by validate.py; it only covers what clients send in requests. An attribute missing here is
never rejected for its tag or group.
"""

from __future__ import annotations

from dataclasses import dataclass

from .tags import Tag

OPERATION = Tag.OPERATION_ATTRIBUTES
JOB_TEMPLATE = Tag.JOB_ATTRIBUTES

# RFC 8011 §5.1: per-syntax maximum value lengths in octets (withLanguage: the text part).
MAX_LENGTH: dict[int, int] = {
    Tag.TEXT: 1023, Tag.TEXT_WITH_LANGUAGE: 1023,
    Tag.NAME: 255, Tag.NAME_WITH_LANGUAGE: 255,
    Tag.KEYWORD: 255, Tag.URI: 1023, Tag.URI_SCHEME: 63, Tag.CHARSET: 63,
    Tag.NATURAL_LANGUAGE: 63, Tag.MIME_MEDIA_TYPE: 255, Tag.OCTET_STRING: 1023,
    Tag.MEMBER_ATTR_NAME: 255,
}

# Out-of-band values a client may send for a Job Template attribute (RFC 8011 §5.1.7 no-value,
# RFC 3380 delete-attribute in Set-Job-Attributes).
TEMPLATE_OUT_OF_BAND = frozenset({Tag.NO_VALUE, Tag.UNKNOWN, Tag.DELETE_ATTRIBUTE})


@dataclass(frozen=True, slots=True)
class Syntax:
    """Allowed value tags, 1setOf or single, max octets per value, and the group it belongs to."""

    name: str
    tags: frozenset[int]
    set_of: bool = False
    max_length: int | None = None
    group: int = OPERATION
    out_of_band: frozenset[int] = frozenset()


def _s(*tags: int) -> frozenset[int]:
    return frozenset(int(t) for t in tags)


TEXT = _s(Tag.TEXT, Tag.TEXT_WITH_LANGUAGE)
NAME = _s(Tag.NAME, Tag.NAME_WITH_LANGUAGE)
KEYWORD = _s(Tag.KEYWORD)
KEYWORD_OR_NAME = _s(Tag.KEYWORD, Tag.NAME, Tag.NAME_WITH_LANGUAGE)
URI = _s(Tag.URI)
INTEGER = _s(Tag.INTEGER)
BOOLEAN = _s(Tag.BOOLEAN)
ENUM = _s(Tag.ENUM)
CHARSET = _s(Tag.CHARSET)
NATURAL_LANGUAGE = _s(Tag.NATURAL_LANGUAGE)
MIME = _s(Tag.MIME_MEDIA_TYPE)
COLLECTION = _s(Tag.BEGIN_COLLECTION)
RANGE = _s(Tag.RANGE_OF_INTEGER)
RESOLUTION = _s(Tag.RESOLUTION)
OCTETS = _s(Tag.OCTET_STRING)
DATE_TIME = _s(Tag.DATE_TIME)

_OPERATION: list[tuple[str, frozenset[int], bool, int | None]] = [
    # RFC 8011 §4.1.4, §4.2, §4.3
    ("attributes-charset", CHARSET, False, 63),
    ("attributes-natural-language", NATURAL_LANGUAGE, False, 63),
    ("printer-uri", URI, False, 1023),
    ("job-uri", URI, False, 1023),
    ("job-id", INTEGER, False, None),
    ("document-uri", URI, False, 1023),
    ("requesting-user-name", NAME, False, 255),
    ("job-name", NAME, False, 255),
    ("document-name", NAME, False, 255),
    ("document-format", MIME, False, 255),
    ("document-natural-language", NATURAL_LANGUAGE, False, 63),
    ("compression", KEYWORD, False, 255),
    ("ipp-attribute-fidelity", BOOLEAN, False, None),
    ("job-k-octets", INTEGER, False, None),
    ("job-impressions", INTEGER, False, None),
    ("job-media-sheets", INTEGER, False, None),
    ("last-document", BOOLEAN, False, None),
    ("which-jobs", KEYWORD, False, 255),
    ("my-jobs", BOOLEAN, False, None),
    ("limit", INTEGER, False, None),
    ("requested-attributes", KEYWORD, True, 255),
    ("message", TEXT, False, 127),
    ("status-message", TEXT, False, 255),
    ("detailed-status-message", TEXT, False, 1023),
    ("document-access-error", TEXT, False, 1023),
    # PWG 5100.7 Job Extensions
    ("job-mandatory-attributes", KEYWORD, True, 255),
    # PWG 5100.11 Enterprise Printing Extensions
    ("job-password", OCTETS, False, 255),
    ("job-password-encryption", KEYWORD_OR_NAME, False, 255),
    ("job-ids", INTEGER, True, None),
    # PWG 5100.13 IPP Everywhere / JPS3
    ("first-index", INTEGER, False, None),
    ("requesting-user-uri", URI, False, 1023),
    ("document-password", OCTETS, False, 1023),
    ("document-format-version", TEXT, False, 127),
    ("document-preprocessed", BOOLEAN, False, None),
    # PWG 5100.5 Document Object
    ("document-number", INTEGER, False, None),
]

_JOB_TEMPLATE: list[tuple[str, frozenset[int], bool, int | None]] = [
    # RFC 8011 §5.2
    ("job-priority", INTEGER, False, None),
    ("job-hold-until", KEYWORD_OR_NAME, False, 255),
    # 1setOf: a CUPS queue sends the start and the end sheet ("none,none"; CUPS's
    # job-sheets extension, lp -o job-sheets=START,END); pipeline/template.py maps it.
    ("job-sheets", KEYWORD_OR_NAME, True, 255),
    ("multiple-document-handling", KEYWORD, False, 255),
    ("copies", INTEGER, False, None),
    ("finishings", ENUM, True, None),
    ("page-ranges", RANGE, True, None),
    ("sides", KEYWORD, False, 255),
    ("number-up", INTEGER, False, None),
    ("orientation-requested", ENUM, False, None),
    ("media", KEYWORD_OR_NAME, False, 255),
    ("printer-resolution", RESOLUTION, False, None),
    ("print-quality", ENUM, False, None),
    # PWG 5100.3 / 5100.7 / 5100.13 / 5100.16
    ("media-col", COLLECTION, False, None),
    ("finishings-col", COLLECTION, True, None),
    ("print-color-mode", KEYWORD, False, 255),
    ("print-content-optimize", KEYWORD, False, 255),
    ("print-rendering-intent", KEYWORD, False, 255),
    ("print-scaling", KEYWORD, False, 255),
    ("output-bin", KEYWORD_OR_NAME, False, 255),
    ("job-account-id", NAME, False, 255),
    ("job-accounting-user-id", NAME, False, 255),
    ("job-accounting-sheets", COLLECTION, False, None),
    ("job-delay-output-until", KEYWORD_OR_NAME, False, 255),
    ("job-delay-output-until-time", DATE_TIME, False, None),
    ("job-hold-until-time", DATE_TIME, False, None),
    ("job-retain-until", KEYWORD_OR_NAME, False, 255),
    ("job-retain-until-time", DATE_TIME, False, None),
    ("job-error-sheet", COLLECTION, False, None),
    ("job-sheets-col", COLLECTION, False, None),
    ("job-message-to-operator", TEXT, False, 1023),
    ("job-phone-number", URI, False, 1023),
    ("job-recipient-name", NAME, False, 255),
    ("job-copies", INTEGER, False, None),
    ("job-cover-back", COLLECTION, False, None),
    ("job-cover-front", COLLECTION, False, None),
    ("cover-back", COLLECTION, False, None),
    ("cover-front", COLLECTION, False, None),
    ("overrides", COLLECTION, True, None),
    ("page-delivery", KEYWORD, False, 255),
    ("presentation-direction-number-up", KEYWORD, False, 255),
    ("separator-sheets", COLLECTION, False, None),
    ("x-image-position", KEYWORD, False, 255),
    ("y-image-position", KEYWORD, False, 255),
    ("x-image-shift", INTEGER, False, None),
    ("y-image-shift", INTEGER, False, None),
    ("imposition-template", KEYWORD_OR_NAME, False, 255),
    ("insert-sheet", COLLECTION, True, None),
    ("output-device", NAME, False, 127),
    ("feed-orientation", KEYWORD, False, 255),
    ("font-name-requested", NAME, False, 255),
    ("font-size-requested", INTEGER, False, None),
    ("force-front-side", INTEGER, True, None),
]


def _build() -> dict[str, Syntax]:
    table: dict[str, Syntax] = {}
    for name, tags, set_of, max_length in _OPERATION:
        table[name] = Syntax(name, tags, set_of, max_length, OPERATION)
    for name, tags, set_of, max_length in _JOB_TEMPLATE:
        table[name] = Syntax(name, tags, set_of, max_length, JOB_TEMPLATE, TEMPLATE_OUT_OF_BAND)
    return table


SYNTAXES: dict[str, Syntax] = _build()
OPERATION_ATTRIBUTES = frozenset(n for n, s in SYNTAXES.items() if s.group == OPERATION)
JOB_TEMPLATE_ATTRIBUTES = frozenset(n for n, s in SYNTAXES.items() if s.group == JOB_TEMPLATE)

# Members of the common collections (PWG 5100.3 / 5100.7 media-col): member -> syntax.
MEDIA_COL_MEMBERS: dict[str, Syntax] = {
    name: Syntax(name, tags, False, max_length, JOB_TEMPLATE)
    for name, tags, max_length in [
        ("media-size", COLLECTION, None),
        ("media-size-name", KEYWORD_OR_NAME, 255),
        ("media-source", KEYWORD_OR_NAME, 255),
        ("media-type", KEYWORD_OR_NAME, 255),
        ("media-color", KEYWORD_OR_NAME, 255),
        ("media-key", KEYWORD_OR_NAME, 255),
        ("media-bottom-margin", INTEGER, None),
        ("media-left-margin", INTEGER, None),
        ("media-right-margin", INTEGER, None),
        ("media-top-margin", INTEGER, None),
        ("media-weight-metric", INTEGER, None),
        ("media-thickness", INTEGER, None),
        ("x-dimension", INTEGER, None),
        ("y-dimension", INTEGER, None),
    ]
}


def lookup(name: str) -> Syntax | None:
    """The registered syntax of ``name`` or None."""
    return SYNTAXES.get(name)
