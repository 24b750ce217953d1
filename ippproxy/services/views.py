"""What the services answer about a stored object: the object as its config type, and
whether the configuration file declares it (provisioned: read-only here)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Stored(Generic[T]):
    config: T
    provisioned: bool
