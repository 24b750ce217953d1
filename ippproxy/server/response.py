"""Building IPP responses (RFC 8011 §4.1.6 and RFC 8010 §3.1.1)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ippproxy.ipp import Attribute, Group, Message, Status, Tag
from ippproxy.server import attrs as A
from ippproxy.server.sanitize import clean_text

# IPP versions we answer in (RFC 8011 §4.1.8; PWG 5100.12 for 2.0, 2.1 and 2.2).
SUPPORTED_VERSIONS = ((1, 0), (1, 1), (2, 0), (2, 1), (2, 2))
VERSION_KEYWORDS = ("1.0", "1.1", "2.0", "2.1", "2.2")


@dataclass(frozen=True)
class Reply:
    """What an operation handler returns: status, an optional message, the other groups."""

    status: int = Status.SUCCESSFUL_OK
    message: str = ""
    groups: tuple[Group, ...] = ()
    # Extra operation attributes after charset/natural-language/status-message.
    operation: tuple[Attribute, ...] = field(default_factory=tuple)


def make_response(version: tuple[int, int], request_id: int, status: int,
                  message: str = "", groups: Sequence[Group] = (),
                  operation: Sequence[Attribute] = (), language: str = "en") -> Message:
    """A response: charset and natural-language first (RFC 8011 §4.1.4), then status-message."""
    if version not in SUPPORTED_VERSIONS:
        version = (1, 1)
    op_attrs = [A.charset("attributes-charset", "utf-8"),
                A.language("attributes-natural-language", language)]
    if message:
        op_attrs.append(A.text("status-message", clean_text(message, 255)))
    op_attrs.extend(operation)
    all_groups = (Group(Tag.OPERATION_ATTRIBUTES, tuple(op_attrs)), *groups)
    return Message(version=version, code=int(status), request_id=request_id,
                   groups=tuple(all_groups))


def unsupported_group(attributes: Sequence[Attribute]) -> Group:
    """RFC 8011 §4.1.7: the unsupported attributes, echoed with their own tags."""
    return Group(Tag.UNSUPPORTED_ATTRIBUTES, tuple(attributes))
