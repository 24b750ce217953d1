"""An IPP attribute: a name and its values, each value keeping its own tag (goipp style)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .values import Value


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
