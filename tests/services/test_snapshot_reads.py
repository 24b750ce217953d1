"""The reads every web request and every popup makes (the session, the actor's rights, the
accounts a user may charge) take no write lock on SQLite: they answer while another
connection holds it (intake's group commit, issue 17's answers under load), instead of
waiting for it as a plain ``engine.connect()`` (``BEGIN IMMEDIATE``) does."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine

from ippproxy.accounting import users
from ippproxy.accounting.txn import in_transaction
from ippproxy.db import make_engine, reading, upgrade
from ippproxy.services.actor import Actor, Via
from ippproxy.services.admins import Admins, Principal
from ippproxy.services.auditsink import LogAudit
from ippproxy.services.sessions import Sessions
from ippproxy.services.userside import UserSide

WAIT = 10.0   # far below the engine's busy_timeout (30 s), far above a read


@pytest.fixture
def sqlite(tmp_path: Path) -> Iterator[Engine]:
    eng = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    upgrade(eng)
    try:
        yield eng
    finally:
        eng.dispose()


def _while_locked(engine: Engine, read: Callable[[], Any]) -> Any:
    """``read()`` in a thread while this thread holds the write lock; its result, or the
    test fails if it waited for the lock."""
    out: list[Any] = []
    with engine.connect() as writer:
        writer.exec_driver_sql("SELECT 1")   # begins as make_engine does: BEGIN IMMEDIATE
        t = threading.Thread(target=lambda: out.append(read()), daemon=True)
        t.start()
        t.join(WAIT)
        finished = not t.is_alive()
        writer.rollback()
    t.join()
    assert finished, "the read waited for the write lock"
    return out[0]


def test_reading_sees_a_snapshot_without_the_write_lock(sqlite: Engine) -> None:
    def count() -> int:
        with reading(sqlite) as conn:
            return int(conn.exec_driver_sql("SELECT count(*) FROM auth_sessions").scalar_one())
    assert _while_locked(sqlite, count) == 0


def test_a_request_proves_its_session_and_rights_and_lists_accounts_under_a_writer(
        sqlite: Engine) -> None:
    def work(conn: Connection) -> None:
        users.add_user(conn, "ann", defaults=users.UserDefaults("EUR", 500, False, 0),
                       internal=True)
    in_transaction(sqlite, work)
    sessions = Sessions(sqlite)
    sid, _ = sessions.create(Principal("ann", False), "127.0.0.1")
    admins = Admins(sqlite, LogAudit())
    side = UserSide(None, sqlite, None, LogAudit(), None)  # type: ignore[arg-type]

    found = _while_locked(sqlite, lambda: sessions.lookup(sid))
    assert found is not None and found.principal == Principal("ann", False)
    actor = _while_locked(sqlite, lambda: admins.actor(found.principal, Via.SESSION))
    assert actor is not None and actor.name == "ann" and not actor.superuser
    accounts = _while_locked(sqlite, lambda: side.accounts(Actor("ann", Via.SESSION)))
    assert [(a.code, a.balance) for a in accounts] == [(None, 500)]
