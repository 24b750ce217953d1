"""The typed allow-list of job attributes passed on to a destination printer.

Theory of operation
-------------------
A job's attributes came from a client and are untrusted. Before the forwarder
re-encodes them for a printer, every attribute goes through :func:`screen`:

* an attribute not in ``RULES`` is dropped (unknown, vendor, or ours to keep,
  such as ``job-hold-until``, ``job-account-id``, ``job-password``);
* an attribute whose value tags are not among the rule's tags, or whose
  value fails the rule's check (range, keyword syntax, enum range), is dropped
  and reported in ``refused``;
* text and name values containing CR, LF or NUL are refused, never escaped
  (CVE-2026-34980: an embedded newline in a textWithoutLanguage option was
  reparsed by CUPS as a trusted control record), and are capped at the
  RFC 8011 §5.1.2/§5.1.3 lengths;
* collections (``media-col``) are screened member by member with their own
  rules, recursively (``media-size`` inside ``media-col``).

The result keeps the original tags of the accepted values, so what is sent
decodes to the same attributes (round trip parse -> screen -> encode -> parse).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ippproxy.ipp import (
    Attribute,
    Collection,
    RangeOfInteger,
    Resolution,
    StringWithLanguage,
    Tag,
    Value,
)

_KEYWORD = re.compile(r"^[a-z0-9][a-z0-9._-]{0,254}$")
_FORBIDDEN = ("\r", "\n", "\x00")
MAX_NAME = 255   # RFC 8011 §5.1.3
MAX_TEXT = 1023  # RFC 8011 §5.1.2

Check = Callable[[Value], str | None]  # None = ok, else the reason


@dataclass(frozen=True)
class Rule:
    tags: frozenset[int]
    check: Check | None = None
    members: dict[str, Rule] | None = None  # for collections
    max_values: int = 1


def _int_range(lo: int, hi: int) -> Check:
    def check(v: Value) -> str | None:
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            return f"not an integer in {lo}..{hi}"
        return None
    return check


def _keyword_in(*allowed: str) -> Check:
    values = frozenset(allowed)

    def check(v: Value) -> str | None:
        return None if v in values else "value not allowed"
    return check


def _keyword(v: Value) -> str | None:
    return None if isinstance(v, str) and _KEYWORD.match(v) else "not a keyword"


def _page_range(v: Value) -> str | None:
    if isinstance(v, RangeOfInteger) and 1 <= v.lower <= v.upper:
        return None
    return "not a page range"


def _resolution(v: Value) -> str | None:
    if isinstance(v, Resolution) and 0 < v.x <= 100_000 and 0 < v.y <= 100_000 \
            and v.units in (3, 4):
        return None
    return "not a resolution"


def string_problem(v: Value, limit: int) -> str | None:
    """Why a text/name value may not be forwarded (CR, LF, NUL, too long), or None."""
    text = v.text if isinstance(v, StringWithLanguage) else v
    if not isinstance(text, str):
        return "not a string"
    if any(c in text for c in _FORBIDDEN):
        return "contains CR, LF or NUL"
    if len(text.encode()) > limit:
        return f"longer than {limit} octets"
    return None


def _name(v: Value) -> str | None:
    return string_problem(v, MAX_NAME)


def _keyword_or_name(v: Value) -> str | None:
    return _keyword(v) if isinstance(v, str) and _KEYWORD.match(v) else _name(v)


K = frozenset({Tag.KEYWORD})
KN = frozenset({Tag.KEYWORD, Tag.NAME, Tag.NAME_WITH_LANGUAGE})
N = frozenset({Tag.NAME, Tag.NAME_WITH_LANGUAGE})
INT = frozenset({Tag.INTEGER})
ENUM = frozenset({Tag.ENUM})
COL = frozenset({Tag.BEGIN_COLLECTION})

_MEDIA_SIZE = {"x-dimension": Rule(INT, _int_range(1, 10_000_000)),
               "y-dimension": Rule(INT, _int_range(1, 10_000_000))}
_MARGIN = Rule(INT, _int_range(0, 100_000))
_MEDIA_COL = {
    "media-size": Rule(COL, members=_MEDIA_SIZE),
    "media-size-name": Rule(KN, _keyword_or_name),
    "media-key": Rule(KN, _keyword_or_name),
    "media-source": Rule(KN, _keyword_or_name),
    "media-type": Rule(KN, _keyword_or_name),
    "media-color": Rule(KN, _keyword_or_name),
    "media-bottom-margin": _MARGIN, "media-top-margin": _MARGIN,
    "media-left-margin": _MARGIN, "media-right-margin": _MARGIN,
}

# Job Template attributes (RFC 8011 §5.2, PWG 5100.7, PWG 5100.13) we pass on.
RULES: dict[str, Rule] = {
    "copies": Rule(INT, _int_range(1, 9999)),
    "sides": Rule(K, _keyword_in("one-sided", "two-sided-long-edge", "two-sided-short-edge")),
    "media": Rule(KN, _keyword_or_name),
    "media-col": Rule(COL, members=_MEDIA_COL),
    "print-color-mode": Rule(K, _keyword_in("auto", "auto-monochrome", "bi-level", "color",
                                            "highlight", "monochrome", "process-bi-level",
                                            "process-monochrome")),
    "print-quality": Rule(ENUM, _int_range(3, 5)),
    "printer-resolution": Rule(frozenset({Tag.RESOLUTION}), _resolution),
    "orientation-requested": Rule(ENUM, _int_range(3, 7)),
    "finishings": Rule(ENUM, _int_range(3, 0x7FFF), max_values=32),
    "number-up": Rule(INT, _int_range(1, 100)),
    "page-ranges": Rule(frozenset({Tag.RANGE_OF_INTEGER}), _page_range, max_values=100),
    "output-bin": Rule(KN, _keyword_or_name),
    "multiple-document-handling": Rule(K, _keyword_in(
        "separate-documents-collated-copies", "separate-documents-uncollated-copies",
        "single-document", "single-document-new-sheet")),
    "job-priority": Rule(INT, _int_range(1, 100)),
    "print-scaling": Rule(K, _keyword_in("auto", "auto-fit", "fill", "fit", "none")),
    "print-content-optimize": Rule(K, _keyword),
    "print-rendering-intent": Rule(K, _keyword),
    "presentation-direction-number-up": Rule(K, _keyword),
    "page-delivery": Rule(K, _keyword),
    "sheet-collate": Rule(K, _keyword_in("collated", "uncollated")),
}
_RANGES = Rule(frozenset({Tag.RANGE_OF_INTEGER}), _page_range, max_values=100)
# PWG 5100.6 page overrides: the selectors and the members a destination may take
# (page_overrides.py keeps those it lists).
RULES["overrides"] = Rule(COL, members={
    "document-numbers": _RANGES, "pages": _RANGES,
    **{n: RULES[n] for n in ("media", "media-col", "orientation-requested",
                             "print-color-mode", "sides")}}, max_values=100)


@dataclass(frozen=True)
class Screened:
    """``kept``: attributes to send; ``dropped``: unknown names; ``refused``: (name, reason)."""

    kept: tuple[Attribute, ...]
    dropped: tuple[str, ...] = ()
    refused: tuple[tuple[str, str], ...] = field(default=())


def _check(attr: Attribute, rule: Rule) -> str | None:
    if not attr.values:
        return "no values"
    if len(attr.values) > rule.max_values:
        return f"more than {rule.max_values} values"
    for tag, value in attr.values:
        if tag not in rule.tags:
            return f"value tag 0x{tag:02x} not allowed"
        if tag == Tag.KEYWORD and (why := _keyword(value)) is not None:  # RFC 8011 §5.1.4
            return why
        if tag in (Tag.NAME, Tag.NAME_WITH_LANGUAGE, Tag.TEXT, Tag.TEXT_WITH_LANGUAGE):
            problem = string_problem(value, MAX_NAME if tag in N else MAX_TEXT)
            if problem:
                return problem
        if rule.members is not None:
            if not isinstance(value, Collection):
                return "not a collection"
            inner = _screen(value.attributes, rule.members)
            if inner.refused:
                member, reason = inner.refused[0]
                return f"member {member}: {reason}"
        elif rule.check is not None and (why := rule.check(value)) is not None:
            return why
    return None


def _screen(attrs: Iterable[Attribute], rules: dict[str, Rule]) -> Screened:
    kept: list[Attribute] = []
    dropped: list[str] = []
    refused: list[tuple[str, str]] = []
    for attr in attrs:
        rule = rules.get(attr.name)
        if rule is None:
            dropped.append(attr.name)
            continue
        why = _check(attr, rule)
        if why is None:
            kept.append(_strip_members(attr, rule))
        else:
            refused.append((attr.name, why))
    return Screened(tuple(kept), tuple(dropped), tuple(refused))


def _strip_members(attr: Attribute, rule: Rule) -> Attribute:
    """Drop unknown members of allowed collections (their known members were checked)."""
    if rule.members is None:
        return attr
    members = rule.members
    values = tuple(
        (tag, Collection(_screen(v.attributes, members).kept)) if isinstance(v, Collection)
        else (tag, v)
        for tag, v in attr.values)
    return Attribute(attr.name, values)


def screen(attrs: Iterable[Attribute]) -> Screened:
    """Filter job-template attributes through ``RULES`` (see the module docstring)."""
    return _screen(attrs, RULES)


def job_name(value: str, fallback: str) -> str:
    """A job-name safe to send: ``value`` if it passes the name rule, else ``fallback``."""
    return value if string_problem(value, MAX_NAME) is None else fallback
