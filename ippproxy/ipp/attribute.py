"""An IPP attribute: a name and its values, each value keeping its own tag (goipp style).

A collection value (RFC 8010 §3.1.6) is a tuple of attributes, so :class:`Collection` and the
full ``Value`` type are defined here, above the scalar syntaxes of values.py (which know
nothing of attributes).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeAlias

from .values import Scalar


@dataclass(frozen=True, slots=True)
class Attribute:
    """``name`` and ``values`` as ``((tag, value), ...)``; 1setOf may mix tags."""

    name: str
    values: tuple[tuple[int, Value], ...]

    @classmethod
    def single(cls, name: str, tag: int, value: Value) -> Attribute:
        return cls(name, ((int(tag), value),))

    @classmethod
    def multi(cls, name: str, tag: int, values: Iterable[Value]) -> Attribute:
        t = int(tag)
        return cls(name, tuple((t, v) for v in values))

    @property
    def tag(self) -> int:
        """Tag of the first value."""
        return self.values[0][0]

    @property
    def value(self) -> Value:
        """The first value."""
        return self.values[0][1]

    @property
    def plain(self) -> list[Value]:
        """The values without their tags."""
        return [v for _, v in self.values]

    @property
    def tags(self) -> list[int]:
        return [t for t, _ in self.values]


@dataclass(frozen=True, slots=True)
class Collection:
    """collection (RFC 8010 §3.1.6): ordered member attributes, each keeping its tags."""

    attributes: tuple[Attribute, ...] = ()

    def get(self, name: str) -> Attribute | None:
        for attribute in self.attributes:
            if attribute.name == name:
                return attribute
        return None

    def names(self) -> list[str]:
        return [a.name for a in self.attributes]


Value: TypeAlias = Scalar | Collection
