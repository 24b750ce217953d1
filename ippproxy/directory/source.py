"""Reading users and groups from the directory (paged searches, RFC 2696) into the
user store's records (accounting.sync_plan.UserRecord)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ldap3 import SUBTREE, Connection
from ldap3.core.exceptions import LDAPException

from ippproxy.accounting.identity import canonical_name
from ippproxy.accounting.sync_plan import UserRecord
from ippproxy.directory.connect import open_connection
from ippproxy.directory.errors import DirectoryError
from ippproxy.directory.nesting import RawGroup, memberships, normal_dn
from ippproxy.directory.settings import LdapSettings


@dataclass(frozen=True)
class Listing:
    users: tuple[UserRecord, ...]
    groups: frozenset[str]  # canonical names of the directory's groups
    warnings: tuple[str, ...] = ()


def _first(attrs: dict[str, Any], name: str) -> str | None:
    if not name:
        return None
    value = attrs.get(name)
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, bytes):
        value = value.hex().upper()  # a binary card number: HEX
    return None if value in (None, "") else str(value)


def _all(attrs: dict[str, Any], name: str) -> tuple[str, ...]:
    value = attrs.get(name) or []
    return tuple(str(v) for v in (value if isinstance(value, list) else [value]))


def _search(conn: Connection, s: LdapSettings, base: str, flt: str,
            attributes: list[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    entries = conn.extend.standard.paged_search(
        base, flt, SUBTREE, attributes=attributes, paged_size=s.page_size, generator=True)
    for entry in entries:
        if entry.get("type") == "searchResEntry":
            yield entry["dn"], dict(entry["attributes"])
    if conn.result and conn.result.get("result", 0) not in (0,):
        raise DirectoryError(f"search of {base} failed: {conn.result.get('description')} "
                             f"{conn.result.get('message', '')}".strip())


def read(s: LdapSettings) -> Listing:
    """Every user and group; raises DirectoryError (down, slow, refused) with the reason."""
    a = s.attributes
    conn = open_connection(s)
    try:
        warnings: list[str] = []
        user_dns: dict[str, str] = {}
        member_of: dict[str, tuple[str, ...]] = {}
        base: dict[str, UserRecord] = {}
        wanted = [x for x in (a.id, a.name, a.email, a.card_number, a.id_number, "memberOf")
                  if x]
        for dn, attrs in _search(conn, s, s.base_dn, s.user_filter, wanted):
            raw = _first(attrs, a.id)
            try:
                name = canonical_name(raw or "")
            except ValueError as e:
                warnings.append(f"{dn}: no usable {a.id} ({e})")
                continue
            user_dns[normal_dn(dn)] = name
            if name in base:
                warnings.append(f"{dn}: user {name!r} appears twice: the first is kept")
                continue
            member_of[name] = _all(attrs, "memberOf")
            base.setdefault(name, UserRecord(
                name, _first(attrs, a.name) or "", _first(attrs, a.email),
                _first(attrs, a.card_number), _first(attrs, a.id_number)))
        groups: list[RawGroup] = []
        for dn, attrs in _search(conn, s, s.group_base_dn or s.base_dn, s.group_filter,
                                 [s.group_name, "member", "uniqueMember", "memberUid"]):
            try:
                gname = canonical_name(_first(attrs, s.group_name) or "")
            except ValueError as e:
                warnings.append(f"{dn}: no usable {s.group_name} ({e})")
                continue
            uids = []
            for uid in _all(attrs, "memberUid"):
                try:
                    uids.append(canonical_name(uid))
                except ValueError:
                    warnings.append(f"{dn}: bad memberUid {uid!r}")
            groups.append(RawGroup(gname, dn, _all(attrs, "member") + _all(attrs, "uniqueMember"),
                                   tuple(uids)))
    except DirectoryError:
        raise
    except (LDAPException, OSError) as e:  # socket, timeout, protocol
        raise DirectoryError(f"reading directory {s.url} failed: {type(e).__name__}: {e}") \
            from None
    finally:
        conn.unbind()
    per_group = memberships(groups, user_dns, member_of, nested=s.nested_groups)
    user_groups: dict[str, set[str]] = {}
    for g, names in per_group.items():
        for n in names:
            user_groups.setdefault(n, set()).add(g)
    users = tuple(UserRecord(r.name, r.full_name, r.email, r.card_number, r.id_number,
                             frozenset(user_groups.get(r.name, ())))
                  for r in base.values())
    return Listing(users, frozenset(per_group), tuple(warnings))
