"""Roles edited through the services (rights, validation, audit with before/after), and a
user's resolved roles naming the level that decided; SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, Engine
from support.postgres import db_url, pg_url, postgres_cluster  # noqa: F401

from ippproxy.accounting import users
from ippproxy.accounting.txn import in_transaction
from ippproxy.db import make_engine, upgrade
from ippproxy.services.actor import Access, Actor, Section, Via
from ippproxy.services.auditsink import AuditEntry
from ippproxy.services.errors import Forbidden, Invalid, NotFound
from ippproxy.services.user_roles import UserRoles


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


def test_edit_and_resolve_roles(engine: Engine) -> None:
    def setup(c: Connection) -> None:
        users.add_group(c, "cashiers")
        users.add_user(c, "Kim", defaults=users.UserDefaults(), groups=("cashiers",))
    in_transaction(engine, setup)
    audit = Recorded()
    svc = UserRoles(engine, audit)
    admin = Actor("root", Via.SESSION, superuser=True)
    reader = Actor("r", Via.SESSION, rights=((Section.USERS, Access.READ),))
    got = svc.user_roles(reader, "KIM")
    assert got["print-job-creator"] == {"state": "indeterminate", "granted": True,
                                        "source": "default"}
    assert got["web-cashier"] == {"state": "indeterminate", "granted": False,
                                  "source": "default"}
    with pytest.raises(Forbidden):
        svc.set_group_role(reader, "cashiers", "web-cashier", "enabled")
    svc.set_group_role(admin, "cashiers", "web-cashier", "enabled")
    svc.set_group_role(admin, "external-users", "print-job-creator", "disabled")
    got = svc.user_roles(reader, "kim")
    assert got["web-cashier"] == {"state": "indeterminate", "granted": True,
                                  "source": "group cashiers"}
    assert got["print-job-creator"]["source"] == "external-users"
    svc.set_user_role(admin, "kim", "print-job-creator", "enabled")
    assert svc.user_roles(reader, "kim")["print-job-creator"] == \
        {"state": "enabled", "granted": True, "source": "user"}
    assert svc.group_roles(reader, "external-users")["print-job-creator"] == "disabled"
    assert [(e.action, e.target, e.before, e.after) for e in audit.entries] == [
        ("group.role", "group:cashiers", {"web-cashier": "indeterminate"},
         {"web-cashier": "enabled"}),
        ("group.role", "group:external-users", {"print-job-creator": "indeterminate"},
         {"print-job-creator": "disabled"}),
        ("user.role", "user:kim", {"print-job-creator": "indeterminate"},
         {"print-job-creator": "enabled"})]
    with pytest.raises(Invalid):
        svc.set_user_role(admin, "kim", "pope", "enabled")
    with pytest.raises(Invalid):
        svc.set_user_role(admin, "kim", "web-cashier", "maybe")
    with pytest.raises(NotFound):
        svc.set_group_role(admin, "nogroup", "web-cashier", "enabled")
    with pytest.raises(NotFound):
        svc.user_roles(admin, "nobody")
