"""What every catalog service does the same way: check the right, run the change in a
thread in one catalog transaction, turn the lower layers' errors into service errors, and
write the audit entry with the actor who made the change.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from ippproxy.catalog import Duplicate, Kind, Tx
from ippproxy.config import ConfigError

from .actor import Access, Actor, Section
from .errors import Conflict, Forbidden, Invalid

T = TypeVar("T")


def require(actor: Actor, section: Section, access: Access) -> None:
    """Deny unless ``actor`` has ``access`` to ``section``."""
    if not actor.may(section, access):
        raise Forbidden(f"{actor.name} may not {'change' if access == Access.WRITE else 'see'}"
                        f" {section.value}")


def invalid(e: ConfigError, prefix: str) -> Invalid:
    """A config check's error as the service's: the field path without the table prefix
    (``queue.destination`` -> ``destination``)."""
    field = e.key[len(prefix) + 1:] if e.key.startswith(prefix + ".") else e.key
    return Invalid(field, str(e).split(": ", 1)[1] if ": " in str(e) else str(e))


def check(prefix: str, parse: Callable[[str, Any], T], raw: Any) -> T:
    try:
        return parse(prefix, raw)
    except ConfigError as e:
        raise invalid(e, prefix) from e


async def run(work: Callable[[], T]) -> T:
    """``work`` in a thread; a concurrent create of the same name is a Conflict."""
    try:
        return await asyncio.to_thread(work)
    except Duplicate as e:
        raise Conflict("an object of that name was created meanwhile") from e


def not_provisioned(kind: Kind, name: str, provisioned: bool) -> None:
    if provisioned:
        raise Conflict(f"{kind.value.replace('_', ' ')} {name!r} is provisioned by the "
                       "configuration file; change it there (it is read-only here)")


def audit(tx: Tx, actor: Actor, action: str, kind: Kind, name: str,
          before: Any = None, after: Any = None) -> None:
    tx.audit(actor=actor.name, via=actor.via.value, action=action, kind=kind, name=name,
             before=before, after=after)
