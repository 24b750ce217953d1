"""Login of external users by an LDAP bind through the login service (services.Admins)
against a throwaway slapd: internal users keep their stored password, a directory that is
down refuses the login instead of failing."""

from __future__ import annotations

import pytest
from ldap_seed import settings
from sqlalchemy import Engine
from support.slapd import Slapd

from ippproxy.accounting import users
from ippproxy.accounting.txn import in_transaction
from ippproxy.directory.bind import password_checker
from ippproxy.directory.sync import DirectorySync
from ippproxy.services.admins import Admins, Principal
from ippproxy.services.auditsink import AuditEntry
from ippproxy.services.errors import Unavailable
from ippproxy.services.ipp_logins import IppLogin, IppLogins
from ippproxy.services.throttle import LoginThrottle
from ippproxy.services.tokens import Tokens


class Recorded:
    def __init__(self) -> None:
        self.entries: list[AuditEntry] = []

    def record(self, e: AuditEntry) -> None:
        self.entries.append(e)


def test_external_users_log_in_by_ldap_bind(engine: Engine, seeded: Slapd) -> None:
    s = settings(seeded)
    DirectorySync(engine, s, users.UserDefaults()).apply()
    in_transaction(engine, lambda c: users.add_user(
        c, "intern", defaults=users.UserDefaults(), internal=True, password="intern-secret"))
    admins = Admins(engine, Recorded(), external=password_checker(s))
    assert admins.authenticate("Alice", "alice-pw") == Principal("alice", False)
    assert admins.authenticate("alice", "wrong") is None
    assert admins.authenticate("alice", "") is None
    assert admins.authenticate("intern", "intern-secret") == Principal("intern", False)
    in_transaction(engine, lambda c: users.set_user_property(c, "alice", "disabled", "true"))
    assert admins.authenticate("alice", "alice-pw") is None            # disabled: refused
    assert admins.authenticate("bob", "bob-pw") == Principal("bob", False)
    seeded.stop()
    with pytest.raises(Unavailable, match="cannot be reached"):        # directory down:
        admins.authenticate("bob", "bob-pw")                           # not "wrong password"
    assert admins.authenticate("intern", "intern-secret") == Principal("intern", False)


def test_ipp_basic_logins_of_external_users_use_the_directory(engine: Engine,
                                                             seeded: Slapd) -> None:
    """IPPS Basic (services.ipp_logins) checks the same way: the LDAP password logs in,
    a wrong one counts as a failed login."""
    s = settings(seeded)
    DirectorySync(engine, s, users.UserDefaults()).apply()
    audit = Recorded()
    logins = IppLogins(Admins(engine, audit, external=password_checker(s)),
                       Tokens(engine, audit), LoginThrottle(engine))
    login = logins.password("bob", "bob-pw", "127.0.0.1")
    assert isinstance(login, IppLogin) and login.name == "bob"
    assert logins.password("bob", "nope", "127.0.0.1") is None
    assert [e.action for e in audit.entries] == ["ipp.login-failed"]
    seeded.stop()  # a directory that is down: refused, and not counted as a failure
    assert logins.password("bob", "bob-pw", "127.0.0.1") is None
    assert [e.action for e in audit.entries] == ["ipp.login-failed"]
