"""Fixtures: a throwaway slapd (tests/support/slapd.py), a seeded directory, a migrated
engine on SQLite and on a throwaway PostgreSQL cluster."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from support.postgres import db_url, pg_url, postgres_cluster  # noqa: F401
from support.slapd import GROUPS, PEOPLE, SUFFIX, Slapd, slapd  # noqa: F401

from ippproxy.db import make_engine, upgrade
from ippproxy.directory import LdapSettings
from ippproxy.directory.settings import UserAttributes


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:  # noqa: F811
    eng = make_engine(db_url)
    upgrade(eng)
    try:
        yield eng
    finally:
        eng.dispose()


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


@pytest.fixture
def seeded(slapd: Slapd) -> Slapd:  # noqa: F811
    """jason, sonja, alice (card, ID), bob; staff (groupOfNames) holds alice and the nested
    group admins (bob); lab (groupOfUniqueNames) holds sonja; unix (posixGroup) jason."""
    alice = person(slapd, "alice", "Alice Archer", password="alice-pw", mail="alice@example.org",
                   card="04A1B2C3", number="100001")
    bob = person(slapd, "bob", "Bob Baker", password="bob-pw", mail="bob@example.org")
    sonja = person(slapd, "Sonja", "Sonja Smith", mail="sonja@example.org")
    person(slapd, "jason", "Jason Jones")
    admins = group(slapd, "admins", [bob])
    group(slapd, "staff", [alice, admins])
    group(slapd, "lab", [sonja], "groupOfUniqueNames")
    group(slapd, "unix", ["jason"], "posixGroup")
    return slapd
