"""A throwaway slapd seeded with a few people and groups, and the ``[ldap]`` table of a
real ``ippproxy serve`` that reads it (the directory's web, REST and cmd tests)."""

from __future__ import annotations

from pathlib import Path

from support.server import IppProxy
from support.slapd import (
    GROUPS,
    PEOPLE,
    ROOT_DN,
    ROOT_PW,
    SUFFIX,
    Slapd,
    launch,
    start_slapd,
    wait_answering,
)
from support.webapi import ACCOUNTING, register

# uid -> (full name, password, mail)
PEOPLE_SEED = {
    "alice": ("Alice Archer", "alice-directory-pw", "alice@example.org"),
    "bob": ("Bob Baker", "bob-directory-pw", "bob@example.org"),
    "carol": ("Carol Cole", "carol-directory-pw", "carol@example.org"),
    "dave": ("Dave Dunn", "dave-directory-pw", "dave@example.org"),
}


def add_person(d: Slapd, uid: str, cn: str, password: str = "", mail: str = "") -> str:
    dn = f"uid={uid},{PEOPLE}"
    attrs: dict[str, object] = {"uid": uid, "cn": cn, "sn": cn.split()[-1]}
    if password:
        attrs["userPassword"] = password
    if mail:
        attrs["mail"] = mail
    d.add(dn, ["inetOrgPerson"], attrs)
    return dn


def seeded_slapd(root: Path) -> Slapd:
    """alice, bob, carol, dave; the group ``staff`` holds alice and bob."""
    d = start_slapd(root)
    dns = {uid: add_person(d, uid, cn, pw, mail)
           for uid, (cn, pw, mail) in PEOPLE_SEED.items()}
    d.add(f"cn=staff,{GROUPS}", ["groupOfNames"],
          {"cn": "staff", "member": [dns["alice"], dns["bob"]]})
    return d


def remove_person(d: Slapd, uid: str) -> None:
    with d.admin() as c:
        c.delete(f"uid={uid},{PEOPLE}")


def ldap_table(d: Slapd, *, url: str | None = None, timeout: float = 5.0,
               sync_interval: float = 0.0) -> str:
    """The ``[ldap]`` TOML table of a server reading ``d`` (``url`` overrides, e.g. a
    port where nothing answers)."""
    return (f'\n[ldap]\nurl = "{url or d.url}"\nbase_dn = "{SUFFIX}"\n'
            f'bind_dn = "{ROOT_DN}"\nbind_password = "{ROOT_PW}"\n'
            f'group_base_dn = "{GROUPS}"\ntimeout = {timeout}\n'
            f'sync_interval = {sync_interval}\n')


def ldap_proxy(root: Path, d: Slapd, queues: list[dict[str, object]] | None = None
               ) -> IppProxy:
    """A started ``ippproxy serve`` with accounting on and ``[ldap]`` reading ``d`` (its
    certificate trusted by ``support.webapi``'s clients)."""
    proxy = IppProxy(root, queues=queues or [{"name": "office"}])  # type: ignore[arg-type]
    proxy.config_path.write_text(proxy.config_path.read_text() + ACCOUNTING + ldap_table(d))
    proxy.start()
    register(proxy)
    return proxy


def restart_slapd(d: Slapd) -> None:
    """Start a stopped ``d`` again on its ports with its data (a directory back up)."""
    launch(d, append=True)
    failure = wait_answering(d, 30)
    if failure is not None:
        raise RuntimeError(f"slapd did not start again: {failure}")
