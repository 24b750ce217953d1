"""The user source sync as an admin operation, against a throwaway slapd: rights, preview,
apply audited, the bulk delete only when asked, a directory that is down (Unavailable)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from support.postgres import db_url, pg_url, postgres_cluster  # noqa: F401
from support.slapd import GROUPS, PEOPLE, ROOT_DN, ROOT_PW, SUFFIX, Slapd, slapd  # noqa: F401

from ippproxy.accounting import users
from ippproxy.db import make_engine, upgrade
from ippproxy.directory import LdapSettings
from ippproxy.directory.sync import DirectorySync
from ippproxy.services.actor import Access, Actor, Section, Via
from ippproxy.services.auditsink import AuditEntry
from ippproxy.services.errors import Forbidden, NotFound, Unavailable
from ippproxy.services.user_sync import UserSync


class Recorded:
    def __init__(self) -> None:
        self.entries: list[AuditEntry] = []

    def record(self, e: AuditEntry) -> None:
        self.entries.append(e)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:  # noqa: F811
    eng = make_engine(db_url)
    upgrade(eng)
    yield eng
    eng.dispose()


def test_sync_on_demand(engine: Engine, slapd: Slapd) -> None:  # noqa: F811
    for uid in ("ann", "ben"):
        slapd.add(f"uid={uid},{PEOPLE}", ["inetOrgPerson"], {"uid": uid, "cn": uid, "sn": uid})
    slapd.add(f"cn=team,{GROUPS}", ["groupOfNames"], {"cn": "team",
                                                      "member": [f"uid=ann,{PEOPLE}"]})
    settings = LdapSettings(url=slapd.url, base_dn=SUFFIX, bind_dn=ROOT_DN,
                            bind_password=ROOT_PW, timeout=3)
    audit = Recorded()
    svc = UserSync(DirectorySync(engine, settings, users.UserDefaults()), audit)
    admin = Actor("root", Via.SESSION, superuser=True)
    reader = Actor("reader", Via.SESSION, rights=((Section.USERS, Access.READ),))
    nobody = Actor("nobody", Via.SESSION)
    with pytest.raises(Forbidden):
        svc.preview(nobody)
    assert [u.name for u in svc.preview(reader).adds] == ["ann", "ben"]
    with pytest.raises(Forbidden):
        svc.apply(reader)
    done = svc.apply(admin)
    assert done.applied and done.plan.new_groups == ("team",)
    assert [(e.action, e.after) for e in audit.entries] == [
        ("users.sync", {"adds": 2, "changes": 0, "deletes": 0, "new_groups": 1, "deleted": 0})]
    with slapd.admin() as c:
        c.delete(f"uid=ben,{PEOPLE}")
    first = svc.preview(admin)
    assert first.deletes == ("ben",)
    slapd.add(f"uid=cy,{PEOPLE}", ["inetOrgPerson"], {"uid": "cy", "cn": "cy", "sn": "cy"})
    assert svc.preview(admin, reuse=True) is first          # a further page: the same plan
    assert [u.name for u in svc.preview(admin).adds] == ["cy"]   # a new preview reads again
    with slapd.admin() as c:
        c.delete(f"uid=cy,{PEOPLE}")
    assert svc.apply(admin).deleted == 0                      # not asked: kept
    assert svc.apply(admin, delete_missing=True).deleted == 1
    slapd.stop()
    with pytest.raises(Unavailable, match="unreachable"):
        svc.apply(admin, delete_missing=True)
    with pytest.raises(NotFound):
        UserSync(None, audit).preview(admin)
