"""Request rules of RFC 8011 §4.1 checked on a decoded Message (separate from decoding).

``check_request(msg)`` raises :class:`RequestError` with the status to answer and a
``status-message``, in this order (the order ipptool's ipp-1.1/ipp-2.0 suites expect):

1. version not 1.0, 1.1, 2.0, 2.1 or 2.2 -> server-error-version-not-supported (§4.1.8)
2. request-id not positive -> client-error-bad-request (§4.1.1)
3. no operation group, a group before it, or a second one -> client-error-bad-request (§4.1.3)
4. attributes-charset not first / attributes-natural-language not second
   -> client-error-bad-request (§4.1.4); a charset other than utf-8
   -> client-error-charset-not-supported (§4.1.4.1)
5. per group (and per collection): a duplicate attribute -> client-error-bad-request (§4.1.3)
6. registered attributes (registry.py): an operation attribute in the job group, a Job
   Template attribute in the operation group (except ``TOLERATED_IN_OPERATION``:
   ``job-hold-until``, which CUPS's print-job-hold.test sends there and expects honoured, as
   cupsd and ippeveprinter do), a wrong value tag, or several values when single-valued
   -> client-error-bad-request
7. any value longer than its syntax allows (RFC 8011 §5.1)
   -> client-error-request-value-too-long
"""

from __future__ import annotations

from .attribute import Attribute, Collection, Value
from .enums import Status
from .errors import RequestError
from .message import Message
from .registry import JOB_TEMPLATE, MAX_LENGTH, MEDIA_COL_MEMBERS, OPERATION, Syntax, lookup
from .tags import Tag, tag_keyword
from .values import StringWithLanguage

# IPP versions accepted and answered in (RFC 8011 §4.1.8; PWG 5100.12 for 2.0, 2.1 and 2.2),
# oldest first (ipp-versions-supported lists them in this order).
SUPPORTED_VERSIONS = ((1, 0), (1, 1), (2, 0), (2, 1), (2, 2))
# Job Template attributes real clients put in the operation group; a server must look for
# them there too (ipptool print-job-hold.test: job-hold-until).
TOLERATED_IN_OPERATION = frozenset({"job-hold-until"})
_BAD = Status.CLIENT_ERROR_BAD_REQUEST
_TOO_LONG = Status.CLIENT_ERROR_REQUEST_VALUE_TOO_LONG

__all__ = ["SUPPORTED_VERSIONS", "TOLERATED_IN_OPERATION", "RequestError", "check_request"]


def check_request(msg: Message) -> None:
    """Raise RequestError(status, message) when ``msg`` breaks a request rule."""
    if msg.version not in SUPPORTED_VERSIONS:
        raise RequestError(
            Status.SERVER_ERROR_VERSION_NOT_SUPPORTED,
            f"IPP version {msg.version[0]}.{msg.version[1]} is not supported",
        )
    if msg.request_id <= 0:
        raise RequestError(_BAD, f"request-id {msg.request_id} is not positive")
    if not msg.groups or msg.groups[0].tag != Tag.OPERATION_ATTRIBUTES:
        raise RequestError(_BAD, "the operation attributes group must come first")
    if len(msg.groups_of(Tag.OPERATION_ATTRIBUTES)) > 1:
        raise RequestError(_BAD, "more than one operation attributes group")
    _check_charset_language(msg.groups[0].attributes)
    for group in msg.groups:
        _check_duplicates(group.attributes, tag_keyword(group.tag))
        for attribute in group.attributes:
            _check_group(attribute, group.tag)
            syntax = lookup(attribute.name)
            # RFC 8011 §4.1.7: a job-template attribute (in the job group) with a value tag the
            # printer does not support is "unsupported", not malformed: the operation screens
            # it against the -supported values and ipp-attribute-fidelity decides between
            # client-error-attributes-or-values-not-supported and ignoring it.
            unsupported_ok = (syntax is not None and syntax.group == JOB_TEMPLATE
                              and group.tag != OPERATION)
            _check_attribute(attribute, syntax, check_tags=not unsupported_ok)


def _check_charset_language(attributes: tuple[Attribute, ...]) -> None:
    # RFC 8011 §4.1.4: charset first, natural-language second, both single-valued.
    if not attributes or attributes[0].name != "attributes-charset":
        raise RequestError(_BAD, "attributes-charset must be the first operation attribute")
    if len(attributes) < 2 or attributes[1].name != "attributes-natural-language":
        raise RequestError(
            _BAD, "attributes-natural-language must be the second operation attribute"
        )
    charset = attributes[0]
    _check_attribute(charset, lookup(charset.name))
    _check_attribute(attributes[1], lookup(attributes[1].name))
    value = charset.value
    if not isinstance(value, str) or value.lower() != "utf-8":
        raise RequestError(
            Status.CLIENT_ERROR_CHARSET_NOT_SUPPORTED, f"charset {value!r} is not supported"
        )


def _check_duplicates(attributes: tuple[Attribute, ...], where: str) -> None:
    seen: set[str] = set()
    for attribute in attributes:
        if attribute.name in seen:
            raise RequestError(_BAD, f"attribute {attribute.name!r} repeated in {where}")
        seen.add(attribute.name)


def _check_group(attribute: Attribute, group_tag: int) -> None:
    syntax = lookup(attribute.name)
    if syntax is None:
        return
    if (syntax.group == JOB_TEMPLATE and group_tag == OPERATION
            and attribute.name not in TOLERATED_IN_OPERATION):
        raise RequestError(
            _BAD, f"job template attribute {attribute.name!r} in the operation group"
        )
    if syntax.group == OPERATION and group_tag == JOB_TEMPLATE:
        raise RequestError(_BAD, f"operation attribute {attribute.name!r} in the job group")


def _check_attribute(attribute: Attribute, syntax: Syntax | None,
                     check_tags: bool = True) -> None:
    name = attribute.name
    if syntax is not None:
        if len(attribute.values) > 1 and not syntax.set_of:
            raise RequestError(
                _BAD, f"{name!r} is single-valued but has {len(attribute.values)} values"
            )
        for tag, _ in attribute.values:
            if check_tags and tag not in syntax.tags and tag not in syntax.out_of_band:
                raise RequestError(_BAD, f"{name!r} has the wrong value tag {tag_keyword(tag)}")
    for tag, value in attribute.values:
        _check_length(name, tag, value, syntax)
        if isinstance(value, Collection):
            _check_collection(name, value, check_tags)


def _check_length(name: str, tag: int, value: Value, syntax: Syntax | None) -> None:
    limit = MAX_LENGTH.get(tag)
    if limit is None:
        return
    if syntax is not None and syntax.max_length is not None:
        limit = min(limit, syntax.max_length)
    if isinstance(value, str):
        size = len(value.encode())
    elif isinstance(value, bytes):
        size = len(value)
    elif isinstance(value, StringWithLanguage):
        size = len(value.text.encode())
        if len(value.language.encode()) > MAX_LENGTH[Tag.NATURAL_LANGUAGE]:
            raise RequestError(_TOO_LONG, f"language of {name!r} longer than 63 octets")
    else:
        return
    if size > limit:
        raise RequestError(_TOO_LONG, f"value of {name!r} longer than {limit} octets")


def _check_collection(name: str, collection: Collection, check_tags: bool = True) -> None:
    _check_duplicates(collection.attributes, f"collection {name!r}")
    members = MEDIA_COL_MEMBERS if name in ("media-col", "media-size") else {}
    for member in collection.attributes:
        _check_attribute(member, members.get(member.name), check_tags)
