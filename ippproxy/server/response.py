"""What an operation handler answers (RFC 8011 §4.1.6, §4.1.7); ``ipp.make_response`` builds
the Message from it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ippproxy.ipp import Attribute, Group, Status, Tag
from ippproxy.ipp.validate import SUPPORTED_VERSIONS

# ipp-versions-supported (RFC 8011 §5.4.14): the versions the codec accepts.
VERSION_KEYWORDS = tuple(f"{major}.{minor}" for major, minor in SUPPORTED_VERSIONS)


@dataclass(frozen=True)
class Reply:
    """What an operation handler returns: status, an optional message, the other groups."""

    status: int = Status.SUCCESSFUL_OK
    message: str = ""
    groups: tuple[Group, ...] = ()
    # Extra operation attributes after charset/natural-language/status-message.
    operation: tuple[Attribute, ...] = field(default_factory=tuple)


def unsupported_group(attributes: Sequence[Attribute]) -> Group:
    """RFC 8011 §4.1.7: the unsupported attributes, echoed with their own tags."""
    return Group(Tag.UNSUPPORTED_ATTRIBUTES, tuple(attributes))
