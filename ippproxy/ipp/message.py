"""An IPP message: request or response (RFC 8010 §3.1.1)."""

from __future__ import annotations

from dataclasses import dataclass

from .attribute import Attribute
from .group import Group
from .tags import Tag


@dataclass(frozen=True, slots=True)
class Message:
    """``code`` is the operation-id in a request and the status-code in a response.

    ``groups`` keeps every group in wire order, repeated tags included (Get-Jobs answers one
    job group per job).
    """

    version: tuple[int, int]
    code: int
    request_id: int
    groups: tuple[Group, ...] = ()

    @property
    def operation(self) -> Group | None:
        """The first operation-attributes group, or None."""
        return self.group(Tag.OPERATION_ATTRIBUTES)

    def group(self, tag: int) -> Group | None:
        for group in self.groups:
            if group.tag == tag:
                return group
        return None

    def groups_of(self, tag: int) -> list[Group]:
        return [g for g in self.groups if g.tag == tag]

    def get(self, group_tag: int, name: str) -> Attribute | None:
        """Attribute ``name`` in the first group tagged ``group_tag``."""
        group = self.group(group_tag)
        return None if group is None else group.get(name)
