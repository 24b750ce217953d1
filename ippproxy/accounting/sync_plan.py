"""What a user source sync would change: the records compared and the plan (no I/O).

Theory of operation (SavaPage admin manual, "Users", user source synchronisation)
-------------------------------------------------------------------------------
The source (an LDAP directory, ippproxy/directory/) yields one :class:`UserRecord` per
user; the user store yields one per live user with the names of its groups. :func:`plan`
compares them by canonical name:

- a name only in the source is an *add* (every field from the source);
- a name in both is a *change* when a field the sync may overwrite (``overwrite``) differs,
  or when its membership of the source's groups differs (groups the source does not know
  are left alone);
- a name only in the store, among users an earlier sync created, is a *delete*; the caller
  applies deletes only when the admin asks.

Two source entries whose names canonicalise to the same name are one user (the first
wins, the other is a warning), as are two users with the same card or ID number (the
later one's number is dropped with a warning: the store keeps them unique). An empty plan
means the sync writes nothing.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from ippproxy.accounting.identity import canonical_name


class Field(enum.StrEnum):
    FULL_NAME = "full-name"
    EMAIL = "email"
    CARD_NUMBER = "card-number"
    ID_NUMBER = "id-number"


ALL_FIELDS = frozenset(Field)


@dataclass(frozen=True)
class UserRecord:
    name: str  # canonical
    full_name: str = ""
    email: str | None = None
    card_number: str | None = None
    id_number: str | None = None
    groups: frozenset[str] = frozenset()  # canonical group names

    def value(self, f: Field) -> str | None:
        return {Field.FULL_NAME: self.full_name, Field.EMAIL: self.email,
                Field.CARD_NUMBER: self.card_number, Field.ID_NUMBER: self.id_number}[f]


@dataclass(frozen=True)
class Change:
    name: str
    fields: Mapping[Field, tuple[str | None, str | None]]  # field -> (old, new)
    join: frozenset[str] = frozenset()
    leave: frozenset[str] = frozenset()


@dataclass(frozen=True)
class SyncPlan:
    adds: tuple[UserRecord, ...] = ()
    changes: tuple[Change, ...] = ()
    deletes: tuple[str, ...] = ()
    new_groups: tuple[str, ...] = ()
    warnings: tuple[str, ...] = field(default=())

    def is_empty(self, *, with_deletes: bool = False) -> bool:
        return not (self.adds or self.changes or self.new_groups
                    or (with_deletes and self.deletes))

    def summary(self) -> dict[str, int]:
        return {"adds": len(self.adds), "changes": len(self.changes),
                "deletes": len(self.deletes), "new_groups": len(self.new_groups)}


def _unique(source: Iterable[UserRecord], warnings: list[str]) -> dict[str, UserRecord]:
    users: dict[str, UserRecord] = {}
    cards: dict[str, str] = {}
    ids: dict[str, str] = {}
    for rec in source:
        name = canonical_name(rec.name)
        if name in users:
            warnings.append(f"user {name!r} appears twice in the source: the first is kept")
            continue
        rec = replace(rec, name=name)
        card, number = rec.card_number, rec.id_number
        if card is not None:
            if card in cards:
                warnings.append(f"card number of {name!r} is that of {cards[card]!r}:"
                                " not synced")
                rec = replace(rec, card_number=None)
            else:
                cards[card] = name
        if number is not None:
            if number in ids:
                warnings.append(f"ID number of {name!r} is that of {ids[number]!r}:"
                                " not synced")
                rec = replace(rec, id_number=None)
            else:
                ids[number] = name
        users[name] = rec
    return users


def plan(source: Iterable[UserRecord], source_groups: Iterable[str],
         stored: Mapping[str, UserRecord], synced: frozenset[str], known_groups: frozenset[str],
         overwrite: frozenset[Field] = ALL_FIELDS) -> SyncPlan:
    """``stored``: live users by canonical name; ``synced``: the names an earlier sync
    created; ``known_groups``: the group names the store has."""
    warnings: list[str] = []
    wanted = _unique(source, warnings)
    groups = frozenset(source_groups)
    adds, changes = [], []
    for name in sorted(wanted):
        rec = wanted[name]
        have = stored.get(name)
        if have is None:
            adds.append(rec)
            continue
        diff = {f: (have.value(f), rec.value(f)) for f in sorted(overwrite)
                if have.value(f) != rec.value(f)}
        current = have.groups & groups
        if diff or current != rec.groups:
            changes.append(Change(name, diff, rec.groups - current, current - rec.groups))
    deletes = tuple(sorted(n for n in synced if n in stored and n not in wanted))
    return SyncPlan(tuple(adds), tuple(changes), deletes,
                    tuple(sorted(groups - known_groups)), tuple(warnings))
