"""Personal printer URLs (services/printer_urls.py) and the IPP login they give
(services/ipp_logins.py ``printer_url``) on a real SQLite database."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine

from ippproxy.accounting import users
from ippproxy.accounting.txn import in_transaction
from ippproxy.db import make_engine, upgrade
from ippproxy.services.actor import Access, Actor, Section, Via
from ippproxy.services.admins import Admins
from ippproxy.services.auditsink import AuditEntry
from ippproxy.services.errors import Forbidden, Invalid, NotFound
from ippproxy.services.ipp_logins import IppLogins
from ippproxy.services.printer_urls import MAX_PER_USER, PREFIX, PrinterUrls, secret_shape
from ippproxy.services.throttle import LoginThrottle
from ippproxy.services.tokens import Tokens

ALICE = Actor("alice", Via.SESSION)
BOB = Actor("bob", Via.SESSION)
USER_ADMIN = Actor("uma", Via.SESSION, rights=((Section.USERS, Access.WRITE),))


class Recorded:
    def __init__(self) -> None:
        self.entries: list[AuditEntry] = []

    def record(self, entry: AuditEntry) -> None:
        self.entries.append(entry)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    upgrade(engine)

    def work(conn: Connection) -> None:
        for name in ("alice", "bob"):
            users.add_user(conn, name, defaults=users.UserDefaults("EUR", 0, True, 0),
                           internal=True, password=f"{name}-pw")
    in_transaction(engine, work)
    yield engine
    engine.dispose()


@pytest.fixture
def audit() -> Recorded:
    return Recorded()


@pytest.fixture
def urls(engine: Engine, audit: Recorded) -> PrinterUrls:
    return PrinterUrls(engine, audit, lambda: ("mine", "lab"))


def test_a_url_proves_its_owner_until_revoked(urls: PrinterUrls, audit: Recorded) -> None:
    info, secret = urls.create(ALICE, "Alice", " phone ")
    assert (info.user, info.name, info.revoked_at) == ("alice", "phone", None)
    assert secret.startswith(PREFIX) and secret_shape(secret) and len(secret) >= 36
    _, other = urls.create(ALICE, "alice", "laptop")
    assert other != secret
    assert urls.authenticate(secret) == "alice" and urls.authenticate(other) == "alice"
    assert [u.name for u in urls.list(ALICE, "alice")] == ["phone", "laptop"]
    assert urls.offered() == ("mine", "lab")
    revoked = urls.revoke(ALICE, "alice", info.id)
    assert revoked.revoked_at is not None
    assert urls.authenticate(secret) is None              # at once, no cache
    assert urls.authenticate(other) == "alice"
    assert [u.name for u in urls.list(ALICE, "alice")] == ["laptop"]
    assert [u.name for u in urls.list(ALICE, "alice", include_revoked=True)] == [
        "phone", "laptop"]
    assert urls.revoke(ALICE, "alice", info.id).revoked_at == revoked.revoked_at  # idempotent
    assert [e.action for e in audit.entries] == [
        "printer-url.create", "printer-url.create", "printer-url.revoke", "printer-url.revoke"]
    assert all(secret not in repr(e) for e in audit.entries)


def test_the_secret_is_stored_hashed_only(engine: Engine, urls: PrinterUrls) -> None:
    _, secret = urls.create(ALICE, "alice", "phone")
    with engine.connect() as conn:
        dump = "\n".join(conn.connection.driver_connection.iterdump())  # type: ignore[union-attr]
    assert secret not in dump and secret[len(PREFIX):] not in dump


def test_only_the_owner_or_a_users_admin_manages_urls(urls: PrinterUrls) -> None:
    info, _ = urls.create(ALICE, "alice", "phone")
    with pytest.raises(Forbidden):
        urls.create(BOB, "alice", "evil")
    with pytest.raises(Forbidden):
        urls.list(BOB, "alice")
    with pytest.raises(Forbidden):
        urls.revoke(BOB, "alice", info.id)
    with pytest.raises(NotFound):        # bob's own list has no such URL
        urls.revoke(BOB, "bob", info.id)
    with pytest.raises(NotFound):
        urls.revoke(ALICE, "alice", "not-a-uuid")
    with pytest.raises(NotFound):
        urls.revoke(ALICE, "alice", str(uuid.uuid4()))
    assert [u.name for u in urls.list(USER_ADMIN, "alice")] == ["phone"]
    made, _ = urls.create(USER_ADMIN, "bob", "desk")
    assert made.user == "bob"


def test_names_and_the_limit(urls: PrinterUrls) -> None:
    for bad in ("", "   ", "x" * 65, "tab\there"):
        with pytest.raises(Invalid):
            urls.create(ALICE, "alice", bad)
    with pytest.raises(Invalid):
        urls.create(ALICE, "", "phone")
    made = [urls.create(ALICE, "alice", f"d{i}")[0] for i in range(MAX_PER_USER)]
    with pytest.raises(Invalid, match="at most"):
        urls.create(ALICE, "alice", "one-more")
    urls.revoke(ALICE, "alice", made[0].id)
    urls.create(ALICE, "alice", "one-more")                # a revoked one frees a place


@pytest.mark.parametrize("junk", ["", "ipxu_", "ipxu_a/b", "ipxu_é", "x" * 40,
                                  PREFIX + "a" * 200, "ipxt_" + "a" * 32])
def test_malformed_secrets_prove_nobody(urls: PrinterUrls, junk: str) -> None:
    assert urls.authenticate(junk) is None


def test_the_ipp_login_of_a_url_follows_the_user(engine: Engine, audit: Recorded,
                                                urls: PrinterUrls) -> None:
    admins = Admins(engine, audit)
    logins = IppLogins(admins, Tokens(engine, audit), LoginThrottle(engine), urls)
    _, secret = urls.create(ALICE, "alice", "phone")
    login = logins.printer_url(secret)
    assert login is not None and (login.name, login.admin) == ("alice", False)
    assert logins.printer_url(secret + "x") is None
    in_transaction(engine, lambda c: users.set_user_property(c, "alice", "disabled", "true"))
    assert logins.printer_url(secret) is None             # a disabled owner: nobody
    assert IppLogins(admins, Tokens(engine, audit), LoginThrottle(engine)).printer_url(
        secret) is None                                    # no URL service: nobody
