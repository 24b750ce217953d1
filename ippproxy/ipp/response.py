"""Build a response Message (RFC 8011 §4.1.4, §4.1.6; RFC 8010 §3.1.1).

The one response builder: the server's dispatcher answers every decoded request with it, and
the HTTP layer answers requests that could not be decoded with it (the version and request-id
come from ``Decoder.header``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from .attribute import Attribute
from .group import Group
from .message import Message
from .tags import Tag
from .validate import SUPPORTED_VERSIONS

# RFC 8011 §4.1.6.2: status-message is text(255).
STATUS_MESSAGE_MAX = 255
# C0, DEL and C1 controls: a status-message may echo text from a client or a printer, and is
# shown in clients' logs and dialogs.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def make_response(version: tuple[int, int], request_id: int, status: int,
                  message: str = "", groups: Sequence[Group] = (),
                  operation: Sequence[Attribute] = (), language: str = "en") -> Message:
    """A response in ``version`` (1.1 when unsupported, RFC 8011 §4.1.8) echoing ``request_id``.

    The operation group is attributes-charset (utf-8) and attributes-natural-language first
    (RFC 8011 §4.1.4), then status-message when ``message`` is not empty (controls dropped, cut
    to 255 octets), then ``operation``; ``groups`` follow in order.
    """
    if version not in SUPPORTED_VERSIONS:
        version = (1, 1)
    op_attrs = [Attribute.single("attributes-charset", Tag.CHARSET, "utf-8"),
                Attribute.single("attributes-natural-language", Tag.NATURAL_LANGUAGE, language)]
    if message:
        op_attrs.append(Attribute.single("status-message", Tag.TEXT,
                                         truncate(_CONTROL.sub("", message))))
    op_attrs.extend(operation)
    return Message(version=version, code=int(status), request_id=request_id,
                   groups=(Group(Tag.OPERATION_ATTRIBUTES, tuple(op_attrs)), *groups))


def truncate(text: str, limit: int = STATUS_MESSAGE_MAX) -> str:
    """Cut ``text`` to at most ``limit`` UTF-8 octets on a character boundary."""
    data = text.encode()
    if len(data) <= limit:
        return text
    return data[:limit].decode(errors="ignore")
