"""An attribute group: a delimiter tag and its ordered attributes (RFC 8010 §3.1.2)."""

from __future__ import annotations

from dataclasses import dataclass

from .attribute import Attribute


@dataclass(frozen=True, slots=True)
class Group:
    """``tag`` is the begin-attribute-group tag (0x01-0x0F but 0x03), kept as an int."""

    tag: int
    attributes: tuple[Attribute, ...] = ()

    def get(self, name: str) -> Attribute | None:
        """First attribute called ``name`` (a valid group has at most one)."""
        for attribute in self.attributes:
            if attribute.name == name:
                return attribute
        return None

    def names(self) -> list[str]:
        return [a.name for a in self.attributes]
