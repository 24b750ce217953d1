"""Short constructors for the attributes the server writes, and requested-attributes logic."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from ippproxy.ipp import Attribute, Collection, RangeOfInteger, Resolution, Tag


def keyword(name: str, *values: str) -> Attribute:
    return Attribute.multi(name, Tag.KEYWORD, list(values))


def text(name: str, value: str) -> Attribute:
    return Attribute.single(name, Tag.TEXT, value)


def name_(name: str, value: str) -> Attribute:
    return Attribute.single(name, Tag.NAME, value)


def integer(name: str, *values: int) -> Attribute:
    return Attribute.multi(name, Tag.INTEGER, list(values))


def enum(name: str, *values: int) -> Attribute:
    return Attribute.multi(name, Tag.ENUM, [int(v) for v in values])


def boolean(name: str, value: bool) -> Attribute:
    return Attribute.single(name, Tag.BOOLEAN, value)


def uri(name: str, *values: str) -> Attribute:
    return Attribute.multi(name, Tag.URI, list(values))


def mime(name: str, *values: str) -> Attribute:
    return Attribute.multi(name, Tag.MIME_MEDIA_TYPE, list(values))


def charset(name: str, *values: str) -> Attribute:
    return Attribute.multi(name, Tag.CHARSET, list(values))


def language(name: str, *values: str) -> Attribute:
    return Attribute.multi(name, Tag.NATURAL_LANGUAGE, list(values))


def range_(name: str, lower: int, upper: int) -> Attribute:
    return Attribute.single(name, Tag.RANGE_OF_INTEGER, RangeOfInteger(lower, upper))


def resolution(name: str, *values: Resolution) -> Attribute:
    return Attribute.multi(name, Tag.RESOLUTION, list(values))


def date_time(name: str, value: dt.datetime | None) -> Attribute:
    if value is None:
        return no_value(name)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return Attribute.single(name, Tag.DATE_TIME, value)


def no_value(name: str) -> Attribute:
    return Attribute.single(name, Tag.NO_VALUE, None)


def collection(name: str, *members: Iterable[Attribute]) -> Attribute:
    return Attribute.multi(name, Tag.BEGIN_COLLECTION,
                           [Collection(tuple(m)) for m in members])


def requested_names(attr: Attribute | None) -> set[str] | None:
    """The requested-attributes keywords, or None when the client asked for the default."""
    if attr is None:
        return None
    return {str(v) for v in attr.plain if isinstance(v, str)}


def select(attributes: Iterable[Attribute], wanted: set[str] | None,
           groups: dict[str, set[str]]) -> list[Attribute]:
    """Filter by requested-attributes (RFC 8011 §4.2.5.1): names and group keywords.

    ``groups`` maps group keywords (``"job-template"``, ``"printer-description"``, ...) to
    the names they stand for; ``"all"`` selects everything. ``wanted`` None selects all.
    """
    attrs = list(attributes)
    if wanted is None or "all" in wanted:
        return attrs
    names = set(wanted)
    for g, members in groups.items():
        if g in wanted:
            names |= members
    return [a for a in attrs if a.name in names]
