"""Group membership from the directory's shapes, nested groups flattened (no I/O).

groupOfNames (``member``) and groupOfUniqueNames (``uniqueMember``) name members by DN,
which may be a user or another group (nesting); posixGroup (RFC 2307) names users by
``memberUid``; a user's ``memberOf`` (the overlay) names its groups by DN. A user is a
member of a group when reached through any chain of groups; cycles are cut.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass


def normal_dn(dn: str) -> str:
    """DNs compared case-insensitively without spaces around the separators."""
    return ",".join(part.strip() for part in dn.split(",")).casefold()


@dataclass(frozen=True)
class RawGroup:
    name: str
    dn: str
    member_dns: tuple[str, ...] = ()
    member_uids: tuple[str, ...] = ()


def memberships(groups: Iterable[RawGroup], user_dns: Mapping[str, str],
                member_of: Mapping[str, Iterable[str]], *, nested: bool = True
                ) -> dict[str, frozenset[str]]:
    """Users (by name) per group name. ``user_dns``: normalised DN -> user name;
    ``member_of``: user name -> DNs of its groups."""
    by_dn = {normal_dn(g.dn): g for g in groups}
    direct: dict[str, set[str]] = {g.name: set() for g in by_dn.values()}
    children: dict[str, set[str]] = {g.name: set() for g in by_dn.values()}
    names = set(user_dns.values())
    for g in by_dn.values():
        for dn in g.member_dns:
            key = normal_dn(dn)
            if key in user_dns:
                direct[g.name].add(user_dns[key])
            elif key in by_dn and by_dn[key].name != g.name:
                children[g.name].add(by_dn[key].name)
        direct[g.name].update(u for u in g.member_uids if u in names)
    for user, dns in member_of.items():
        for dn in dns:
            group = by_dn.get(normal_dn(dn))
            if group is not None:
                direct[group.name].add(user)
    if not nested:
        return {g: frozenset(u) for g, u in direct.items()}
    result: dict[str, frozenset[str]] = {}
    for top in direct:
        seen, stack, members = {top}, [top], set()
        while stack:
            cur = stack.pop()
            members |= direct[cur]
            for child in children[cur] - seen:
                seen.add(child)
                stack.append(child)
        result[top] = frozenset(members)
    return result
