"""HTTP Basic and Bearer for IPP (server/basic_auth.py) against the real authority
(services/ipp_logins.py: users with argon2, the master admin, API tokens, the login
throttle) on a real database."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine

from ippproxy.accounting import users
from ippproxy.accounting.txn import in_transaction
from ippproxy.db import make_engine, upgrade
from ippproxy.server.basic_auth import BasicAuthenticator, parse_basic, parse_bearer
from ippproxy.server.identity import Identity
from ippproxy.services.actor import Access, Actor, Section, Via
from ippproxy.services.admins import Admins
from ippproxy.services.auditsink import AuditEntry
from ippproxy.services.ipp_logins import IppLogins
from ippproxy.services.throttle import LoginThrottle, ThrottleSettings
from ippproxy.services.tokens import Tokens


class Recorded:
    def __init__(self) -> None:
        self.entries: list[AuditEntry] = []

    def record(self, entry: AuditEntry) -> None:
        self.entries.append(entry)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def audit() -> Recorded:
    return Recorded()


@pytest.fixture
def logins(engine: Engine, audit: Recorded) -> IppLogins:
    return IppLogins(Admins(engine, audit), Tokens(engine, audit),
                     LoginThrottle(engine, ThrottleSettings(free=3, base=60.0)))


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _add(engine: Engine, name: str, password: str, *, disabled: bool = False,
         admin: bool = False, groups: tuple[str, ...] = ()) -> None:
    def work(conn: Connection) -> None:
        for g in groups:
            users.add_group(conn, g)
        users.add_user(conn, name, defaults=users.UserDefaults("EUR", 0, True, 0),
                       internal=True, password=password, groups=groups)
        for prop, on in (("disabled", disabled), ("admin", admin)):
            if on:
                users.set_user_property(conn, name, prop, "true")
    in_transaction(engine, work)


def _set(engine: Engine, name: str, prop: str, value: str) -> None:
    in_transaction(engine, lambda c: users.set_user_property(c, name, prop, value))


async def test_basic_authentication(engine: Engine, logins: IppLogins) -> None:
    _add(engine, "Alice", "s3cret")
    _add(engine, "olga", "s3cret", disabled=True)
    _add(engine, "root", "s3cret")       # a user named root is no admin for its name
    _add(engine, "carol", "s3cret", admin=True)
    auth = BasicAuthenticator(["secure"], logins)
    assert auth.required("secure") and not auth.required("colour")
    assert await auth.verify(_basic("ALICE", "s3cret")) == Identity("alice")  # canonical
    assert await auth.verify(_basic("alice", "s3cret")) == Identity("alice")  # (cached)
    assert await auth.verify(_basic("root", "s3cret")) == Identity("root", admin=False)
    assert await auth.verify(_basic("carol", "s3cret")) == Identity("carol", admin=True)
    assert await auth.verify(_basic("alice", "wrong")) is None
    assert await auth.verify(_basic("nobody", "s3cret")) is None
    assert await auth.verify(_basic("olga", "s3cret")) is None        # disabled
    assert await auth.verify("Bearer abc") is None
    assert await auth.verify("Digest username=\"alice\"") is None
    assert await auth.verify("Basic !!!") is None
    assert await auth.verify(None) is None


async def test_group_right_on_printers_makes_an_admin(engine: Engine, logins: IppLogins,
                                                      audit: Recorded) -> None:
    _add(engine, "gina", "pw", groups=("ops",))
    _add(engine, "rita", "pw", groups=("readers",))
    admins = Admins(engine, audit)
    full = Actor.system("t", Via.COMMAND)
    admins.set_group_rights(full, "ops", {Section.PRINTERS: Access.WRITE})
    admins.set_group_rights(full, "readers", {Section.PRINTERS: Access.READ,
                                              Section.USERS: Access.WRITE})
    auth = BasicAuthenticator([], logins)
    assert await auth.verify(_basic("gina", "pw")) == Identity("gina", admin=True)
    assert await auth.verify(_basic("rita", "pw")) == Identity("rita", admin=False)


async def test_api_tokens(engine: Engine, logins: IppLogins, audit: Recorded) -> None:
    tokens = Tokens(engine, audit)
    full = Actor.system("t", Via.COMMAND)
    info, write = tokens.create(full, "ops", Access.WRITE, (Section.PRINTERS,))
    _, read = tokens.create(full, "look", Access.READ, (Section.PRINTERS,))
    auth = BasicAuthenticator([], logins)
    assert await auth.verify(f"Bearer {write}") == Identity("token:ops", admin=True)
    assert await auth.verify(f"Bearer {read}") == Identity("token:look", admin=False)
    assert await auth.verify(f"Bearer {write}x") is None
    tokens.revoke(full, info.id)
    assert await auth.verify(f"Bearer {write}") is None


async def test_a_success_is_remembered_and_a_failure_is_not(
        engine: Engine, logins: IppLogins) -> None:
    _add(engine, "bob", "pw")
    auth = BasicAuthenticator(["q"], logins)
    assert await auth.verify(_basic("bob", "nope")) is None
    assert auth._cache == {}
    assert await auth.verify(_basic("bob", "pw")) == Identity("bob")
    assert len(auth._cache) == 1
    assert all(b"pw" not in k for k in auth._cache)                   # a digest, not the header


async def test_disabling_a_user_ends_a_cached_login_at_once(engine: Engine,
                                                            logins: IppLogins) -> None:
    _add(engine, "dora", "pw", admin=True)
    auth = BasicAuthenticator(["q"], logins, ttl=3600.0)
    assert await auth.verify(_basic("dora", "pw"), "10.0.0.1") == Identity("dora", True)
    _set(engine, "dora", "admin", "false")        # the role taken away: at the next request
    assert await auth.verify(_basic("dora", "pw"), "10.0.0.1") == Identity("dora", False)
    _set(engine, "dora", "disabled", "true")
    assert await auth.verify(_basic("dora", "pw"), "10.0.0.1") is None
    assert auth._cache == {}
    _set(engine, "dora", "disabled", "false")     # enabled again: the password is checked
    assert await auth.verify(_basic("dora", "pw"), "10.0.0.1") == Identity("dora", False)


async def test_wrong_passwords_are_throttled_per_user_and_address(
        engine: Engine, logins: IppLogins, audit: Recorded) -> None:
    _add(engine, "erin", "right")
    _add(engine, "fred", "right")
    auth = BasicAuthenticator(["q"], logins)
    for _ in range(3):                                   # free=3: no wait yet
        assert await auth.verify(_basic("erin", "wrong"), "10.0.0.9") is None
    # The third failure starts the wait: the right password is not even checked.
    wait = await auth.verify(_basic("erin", "right"), "10.0.0.2")
    assert isinstance(wait, float) and 0 < wait <= 60
    lockouts = [e for e in audit.entries if e.action == "ipp.lockout"]
    assert len(lockouts) == 1 and lockouts[0].target == "user:erin"
    assert sum(e.action == "ipp.login-failed" for e in audit.entries) == 3
    # The address is throttled too, for every user name tried from it.
    assert isinstance(await auth.verify(_basic("fred", "right"), "10.0.0.9"), float)
    assert await auth.verify(_basic("fred", "right"), "10.0.0.3") == Identity("fred")


def test_parse_basic_and_bearer() -> None:
    assert parse_basic(_basic("u", "p:q")) == ("u", "p:q")
    assert parse_basic(_basic("", "p")) is None
    assert parse_basic("Basic " + base64.b64encode(b"nocolon").decode()) is None
    assert parse_basic("Basic " + "A" * 5000) is None
    assert parse_basic("basic " + base64.b64encode(b"u:p").decode()) == ("u", "p")
    assert parse_bearer("Bearer ipxt_abc") == "ipxt_abc"
    assert parse_bearer("bearer  ipxt_abc ") == "ipxt_abc"
    assert parse_bearer("Bearer ") is None and parse_bearer("Basic x") is None


async def test_a_password_change_ends_a_cached_login_at_once(engine: Engine,
                                                            logins: IppLogins) -> None:
    """The master's password set (on any node: the stamp is read from the database) and a
    user's: the old password no longer works at the next request, the new one does."""
    admins = logins.admins
    old = admins.ensure_master()
    assert old is not None
    auth = BasicAuthenticator(["q"], logins, ttl=3600.0)
    assert await auth.verify(_basic("admin", old), "10.0.0.1") == Identity("admin", True)
    assert await auth.verify(_basic("admin", old), "10.0.0.1") == Identity("admin", True)
    # another node's admins object: only the database is shared
    Admins(engine, Recorded()).set_master_password(Actor.system(), "a new master password")
    assert await auth.verify(_basic("admin", old), "10.0.0.1") is None
    assert auth._cache == {}
    assert await auth.verify(_basic("admin", "a new master password"), "10.0.0.1") == \
        Identity("admin", True)

    _add(engine, "erin", "first password")
    assert await auth.verify(_basic("erin", "first password")) == Identity("erin")
    _set(engine, "erin", "password", "second password")
    assert await auth.verify(_basic("erin", "first password")) is None
    assert await auth.verify(_basic("erin", "second password")) == Identity("erin")
