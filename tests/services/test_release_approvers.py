"""Approvers of an approval queue read from the user store (services/release_approvers.py):
named, by ``@group`` membership, or by the release-approver role (resolved per user and per
group, accounting/roles.py); a disabled or unknown user approves nothing. SQLite and
PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, Engine
from support.postgres import db_url, pg_url, postgres_cluster  # noqa: F401

from ippproxy.accounting import users
from ippproxy.accounting.txn import in_transaction
from ippproxy.db import make_engine, upgrade
from ippproxy.services.actor import Actor, Via
from ippproxy.services.auditsink import AuditEntry
from ippproxy.services.release_approvers import Approvers
from ippproxy.services.user_roles import UserRoles


class Recorded:
    def record(self, e: AuditEntry) -> None:
        pass


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:  # noqa: F811
    eng = make_engine(db_url)
    upgrade(eng)
    yield eng
    eng.dispose()


def test_approvers_by_name_group_and_role(engine: Engine) -> None:
    def setup(c: Connection) -> None:
        users.add_group(c, "managers")
        users.add_group(c, "supervisors")
        for name, groups in (("carol", ()), ("dave", ("managers",)), ("erin", ()),
                             ("fred", ("supervisors",)), ("gina", ())):
            users.add_user(c, name, defaults=users.UserDefaults(), groups=groups)
        users.set_user_property(c, "gina", "disabled", "true")
    in_transaction(engine, setup)
    roles = UserRoles(engine, Recorded())
    admin = Actor("root", Via.SESSION, superuser=True)
    roles.set_user_role(admin, "erin", "release-approver", "enabled")
    roles.set_group_role(admin, "supervisors", "release-approver", "enabled")
    approves = Approvers(engine)
    named = ("carol", "@managers", "gina")
    assert approves("carol", named) and approves("dave", named)
    assert approves("erin", named)                 # the role, on the user
    assert approves("fred", named)                 # the role, through a group
    assert not approves("gina", named)             # disabled
    assert not approves("nobody", named)
    assert not approves("dave", ("carol",))
