"""Admin accounts, rights, sessions, the login throttle and API tokens on a real database
(SQLite and a throwaway PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, Engine, update

from ippproxy.accounting import users
from ippproxy.accounting.txn import in_transaction
from ippproxy.db import Base
from ippproxy.services.actor import Access, Actor, Section, Via
from ippproxy.services.admins import Admins, Principal
from ippproxy.services.auditsink import AuditEntry
from ippproxy.services.authmodels import SESSIONS
from ippproxy.services.errors import Forbidden, Invalid
from ippproxy.services.sessions import Sessions, SessionSettings, digest
from ippproxy.services.throttle import LoginThrottle, ThrottleSettings
from ippproxy.services.tokens import Tokens

ADMIN = Actor("admin", Via.SESSION, superuser=True)


class Recorded:
    def __init__(self) -> None:
        self.entries: list[AuditEntry] = []

    def record(self, entry: AuditEntry) -> None:
        self.entries.append(entry)


def test_migration_matches_models(engine: Engine) -> None:
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert [d for d in diff if "auth_" in repr(d)] == []


def _user(engine: Engine, name: str, password: str, *, admin: bool = False,
          groups: tuple[str, ...] = ()) -> None:
    def work(conn: Connection) -> None:
        for g in groups:
            users.add_group(conn, g)
        users.add_user(conn, name, defaults=users.UserDefaults(), internal=True,
                       password=password, groups=groups)
        if admin:
            users.set_user_property(conn, name, "admin", "true")
    in_transaction(engine, work)


def test_master_password_is_generated_once_and_checked(engine: Engine) -> None:
    audit = Recorded()
    admins = Admins(engine, audit)
    password = admins.ensure_master()
    assert password and len(password) >= 20
    assert admins.ensure_master() is None  # a second start prints nothing
    assert admins.authenticate("admin", password) == Principal("admin", True)
    assert admins.authenticate("ADMIN ", password) == Principal("admin", True)
    assert admins.authenticate("admin", password + "x") is None
    with pytest.raises(Invalid):
        admins.set_master_password(Actor.system(via=Via.COMMAND), "short")
    admins.set_master_password(Actor.system(via=Via.COMMAND), "a much longer secret")
    assert admins.authenticate("admin", password) is None
    assert admins.authenticate("admin", "a much longer secret") is not None
    assert [e.action for e in audit.entries] == ["admin.create", "admin.set-password"]


def test_rights_come_from_the_admin_role_and_group_rights(engine: Engine) -> None:
    admins = Admins(engine, Recorded())
    _user(engine, "root2", "pw-root2-long", admin=True)
    _user(engine, "carol", "pw-carol-long", groups=("finance-team",))
    _user(engine, "dave", "pw-dave-long")
    admins.set_group_rights(ADMIN, "Finance-Team", {Section.FINANCE: Access.WRITE,
                                                    Section.USERS: Access.READ})
    root = admins.actor(Principal("root2", False), Via.SESSION)
    carol = admins.actor(Principal("carol", False), Via.SESSION)
    dave = admins.actor(Principal("dave", False), Via.SESSION)
    assert root is not None and root.superuser
    assert carol is not None and not carol.superuser
    assert carol.may(Section.FINANCE, Access.WRITE) and carol.may(Section.USERS, Access.READ)
    assert not carol.may(Section.USERS, Access.WRITE)
    assert not carol.may(Section.PRINTERS, Access.READ)
    assert dave is not None and all(dave.access(s) == Access.NONE for s in Section)
    # Only full admins grant rights; a user disabled later loses their session's actor.
    with pytest.raises(Forbidden):
        admins.set_group_rights(carol, "finance-team", {Section.AUDIT: Access.WRITE})
    in_transaction(engine, lambda c: users.set_user_property(c, "carol", "disabled", "true"))
    assert admins.actor(Principal("carol", False), Via.SESSION) is None
    assert admins.authenticate("carol", "pw-carol-long") is None
    # A case variant is the same identity, never a second one with other rights.
    assert admins.authenticate("DAVE", "pw-dave-long") == Principal("dave", False)


def test_sessions_expire_when_idle_and_at_logout(engine: Engine) -> None:
    sessions = Sessions(engine)
    sid, session = sessions.create(Principal("admin", True), "127.0.0.1")
    found = sessions.lookup(sid)
    assert found is not None and found.csrf == session.csrf
    assert sessions.lookup(sid + "x") is None
    # The id is never stored, only its hash.
    with engine.connect() as conn:
        stored = [r.id_hash for r in conn.execute(SESSIONS.select())]
    assert stored == [digest(sid)] and sid not in stored
    # Idle too long: gone (another node with the same table agrees).
    old = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=120)
    in_transaction(engine, lambda c: c.execute(update(SESSIONS).values(seen_at=old)))
    assert Sessions(engine, SessionSettings(idle=60)).lookup(sid) is None
    assert sessions.lookup(sid) is None  # and it was deleted
    sid2, _ = sessions.create(Principal("admin", True), "127.0.0.1")
    sessions.end(sid2)
    assert sessions.lookup(sid2) is None
    # Busy but logged in too long ago: gone as well (absolute expiry).
    sid3, _ = sessions.create(Principal("admin", True), "127.0.0.1")
    in_transaction(engine, lambda c: c.execute(update(SESSIONS).values(created_at=old)))
    assert Sessions(engine, SessionSettings(absolute=3600)).lookup(sid3) is not None
    assert Sessions(engine, SessionSettings(absolute=60)).lookup(sid3) is None


def test_throttle_backs_off_per_user_and_per_address(engine: Engine) -> None:
    t = LoginThrottle(engine, ThrottleSettings(free=3, base=60))
    for _ in range(3):
        assert t.retry_after("eve", "10.0.0.1") == 0
        t.failed("eve", "10.0.0.1")
    wait = t.retry_after("eve", "10.0.0.1")
    assert 55 < wait <= 60
    assert t.retry_after("eve", "10.0.0.2") > 55   # the user is throttled anywhere
    assert t.retry_after("frank", "10.0.0.1") > 55  # and so is the address for anyone
    assert t.retry_after("frank", "10.0.0.2") == 0
    t.failed("eve", "10.0.0.9")  # a fourth failure doubles the wait
    assert 115 < t.retry_after("eve", "10.0.0.8") <= 120
    t.succeeded("eve")  # success clears the user, not the address
    assert t.retry_after("eve", "10.0.0.8") == 0
    assert t.retry_after("eve", "10.0.0.1") > 55


def test_tokens_are_hashed_scoped_and_revocable(engine: Engine) -> None:
    audit = Recorded()
    tokens = Tokens(engine, audit)
    info, secret = tokens.create(ADMIN, "backup script", Access.READ,
                                 (Section.FINANCE, Section.USERS))
    actor = tokens.authenticate(secret)
    assert actor is not None and actor.via == Via.TOKEN
    assert actor.may(Section.FINANCE, Access.READ)
    assert not actor.may(Section.FINANCE, Access.WRITE)
    assert not actor.may(Section.PRINTERS, Access.READ)
    listed = tokens.list(ADMIN)
    assert [t.id for t in listed] == [info.id] and listed[0].last_used_at is not None
    assert tokens.authenticate(secret[:-1] + ("A" if secret[-1] != "A" else "B")) is None
    # An actor cannot hand out more than they hold.
    reader = Actor("r", Via.SESSION, rights=((Section.OPTIONS, Access.WRITE),
                                             (Section.USERS, Access.READ)))
    with pytest.raises(Forbidden):
        tokens.create(reader, "too much", Access.WRITE, (Section.USERS,))
    tokens.revoke(ADMIN, info.id)
    assert tokens.authenticate(secret) is None
    assert tokens.list(ADMIN) == []
    assert [t.id for t in tokens.list(ADMIN, include_revoked=True)] == [info.id]
    assert [e.action for e in audit.entries] == ["token.create", "token.revoke"]


def test_an_unknown_name_costs_a_password_check_too(engine: Engine,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Answering "no such user" faster than "wrong password" would list the names."""
    admins = Admins(engine, Recorded())
    admins.ensure_master()
    _user(engine, "gina", "pw-gina-long")
    checked: list[str | None] = []
    real = users.verify_secret

    def counting(hashed: str | None, secret: str) -> bool:
        checked.append(hashed)
        return real(hashed, secret)
    monkeypatch.setattr(users, "verify_secret", counting)
    for name in ("gina", "nobody-here", "\x00bad"):
        checked.clear()
        assert admins.authenticate(name, "wrong password") is None
        assert len(checked) == 1 and checked[0], name  # one real argon2 verification
