"""Build a response Message for a request (RFC 8011 §4.1.4, §4.1.6)."""

from __future__ import annotations

from collections.abc import Iterable

from .attribute import Attribute
from .group import Group
from .message import Message
from .tags import Tag
from .validate import SUPPORTED_VERSIONS

# RFC 8011 §4.1.6.2: status-message is text(255).
STATUS_MESSAGE_MAX = 255


def response(
    request: Message | None,
    status: int,
    message: str | None = None,
    groups: Iterable[Group] = (),
    *,
    request_id: int | None = None,
    version: tuple[int, int] | None = None,
) -> Message:
    """A response echoing the request's version and request-id.

    The operation group starts with attributes-charset (utf-8) and
    attributes-natural-language (the request's, else "en"), then status-message when
    ``message`` is given, then the attributes of an operation group passed in ``groups``; the
    other groups follow in order. With no request (it could not be decoded), pass the
    ``request_id`` read from the header if any; an unsupported version is answered as 1.1.
    """
    if version is None:
        version = request.version if request is not None else (1, 1)
        if version not in SUPPORTED_VERSIONS:
            version = (1, 1)
    if request_id is None:
        request_id = request.request_id if request is not None else 0
    language = "en"
    if request is not None:
        requested = request.get(Tag.OPERATION_ATTRIBUTES, "attributes-natural-language")
        if requested is not None and requested.tag == Tag.NATURAL_LANGUAGE:
            value = requested.value
            if isinstance(value, str) and 0 < len(value) <= 63:
                language = value
    operation = [
        Attribute.single("attributes-charset", Tag.CHARSET, "utf-8"),
        Attribute.single("attributes-natural-language", Tag.NATURAL_LANGUAGE, language),
    ]
    if message is not None:
        operation.append(Attribute.single("status-message", Tag.TEXT, truncate(message)))
    rest: list[Group] = []
    for group in groups:
        if group.tag == Tag.OPERATION_ATTRIBUTES and not rest:
            operation.extend(a for a in group.attributes if a.name not in _FIRST)
        else:
            rest.append(group)
    return Message(
        version, status, request_id, (Group(Tag.OPERATION_ATTRIBUTES, tuple(operation)), *rest)
    )


_FIRST = frozenset({"attributes-charset", "attributes-natural-language", "status-message"})


def truncate(text: str, limit: int = STATUS_MESSAGE_MAX) -> str:
    """Cut ``text`` to at most ``limit`` UTF-8 octets on a character boundary."""
    data = text.encode()
    if len(data) <= limit:
        return text
    return data[:limit].decode(errors="ignore")
