"""Seeding a throwaway slapd for the directory tests, and the settings that read it."""

from __future__ import annotations

from support.slapd import GROUPS, PEOPLE, SUFFIX, Slapd

from ippproxy.directory import LdapSettings
from ippproxy.directory.settings import UserAttributes

__all__ = ["GROUPS", "PEOPLE", "SUFFIX", "group", "person", "settings"]


def person(d: Slapd, uid: str, cn: str, *, password: str = "", mail: str = "",
           card: str = "", number: str = "") -> str:
    dn = f"uid={uid},{PEOPLE}"
    attrs: dict[str, object] = {"uid": uid, "cn": cn, "sn": cn.split()[-1]}
    for key, value in (("userPassword", password), ("mail", mail),
                       ("carLicense", card), ("employeeNumber", number)):
        if value:
            attrs[key] = value
    d.add(dn, ["inetOrgPerson"], attrs)
    return dn


def group(d: Slapd, cn: str, members: list[str], kind: str = "groupOfNames") -> str:
    dn = f"cn={cn},{GROUPS}"
    if kind == "posixGroup":
        d.add(dn, ["posixGroup"], {"cn": cn, "gidNumber": 5000, "memberUid": members})
    else:
        attr = "member" if kind == "groupOfNames" else "uniqueMember"
        d.add(dn, [kind], {"cn": cn, attr: members})
    return dn


def settings(d: Slapd, **changes: object) -> LdapSettings:
    base: dict[str, object] = {
        "url": d.url, "base_dn": SUFFIX, "bind_dn": f"cn=admin,{SUFFIX}",
        "bind_password": "admin-secret", "group_base_dn": GROUPS, "timeout": 5.0,
        "attributes": UserAttributes(card_number="carLicense", id_number="employeeNumber")}
    base.update(changes)
    return LdapSettings(**base)  # type: ignore[arg-type]
