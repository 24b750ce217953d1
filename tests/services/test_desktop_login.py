"""Who a desktop login is (services/desktop_login.py) on a real database (SQLite and a
throwaway PostgreSQL): the OS name made canonical must be a live, enabled user; the master
account's name, a disabled or unknown user and a name no user can have are refused, and
nobody is created. The uid side (SO_PEERCRED, the password database) and the HTTP side run
end to end in tests/e2e/test_desktop_login.py."""

from __future__ import annotations

import os
import pwd

import pytest
from sqlalchemy import Connection, Engine

from ippproxy.accounting import users
from ippproxy.accounting.txn import in_transaction
from ippproxy.services.admins import Admins, Principal
from ippproxy.services.auditsink import AuditEntry
from ippproxy.services.desktop_login import DesktopLogins
from ippproxy.services.errors import Forbidden


class Recorded:
    def __init__(self) -> None:
        self.entries: list[AuditEntry] = []

    def record(self, entry: AuditEntry) -> None:
        self.entries.append(entry)


def _add(engine: Engine, name: str, *, admin: bool = False, disabled: bool = False) -> None:
    def work(conn: Connection) -> None:
        users.add_user(conn, name, defaults=users.UserDefaults(), internal=True,
                       password=f"{name}-password")
        if admin:
            users.set_user_property(conn, name, "admin", "true")
        if disabled:
            users.set_user_property(conn, name, "disabled", "true")
    in_transaction(engine, work)


def test_an_os_name_is_a_live_enabled_user_and_nothing_else(engine: Engine) -> None:
    _add(engine, "alice", admin=True)
    _add(engine, "dora", disabled=True)
    logins = DesktopLogins(Admins(engine, Recorded()), "/run/ippproxy/ippproxy.sock")
    # Canonical, as every user name is; the admin role does not make it the master account.
    assert logins.named("Alice") == Principal("alice", False)
    for name, reason in (("admin", "master account's name"), ("ADMIN ", "master account"),
                         ("dora", "not an enabled user"), ("mallory", "not an enabled user"),
                         ("bad\x07name", "not a valid user name")):
        with pytest.raises(Forbidden, match=reason):
            logins.named(name)
    with engine.connect() as conn:   # a refused name was not created
        assert users.find_user(conn, "mallory") is None
    # The uid is read from the password database: this process's own name is no user here.
    me = pwd.getpwuid(os.geteuid()).pw_name
    with pytest.raises(Forbidden, match=f"the desktop user {me!r} is not an enabled user"):
        logins.principal(os.geteuid())
