"""``Prepared`` gives back what ``Connection.execute`` gives, on SQLite and PostgreSQL, and
fails as it fails."""

from __future__ import annotations

import datetime as dt
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, bindparam, event, insert, literal, select, union_all, update
from sqlalchemy.exc import IntegrityError, OperationalError
from support.postgres import db_url, pg_url, postgres_cluster  # noqa: F401

from ippproxy.accounting.models import ACCOUNTS, CHARGES, LEDGER, USERS
from ippproxy.accounting.users import UserDefaults, add_user
from ippproxy.db import make_engine, upgrade
from ippproxy.db.prepared import Prepared

WHEN = dt.datetime(2026, 12, 3, 15, 30, 1, 250000, tzinfo=dt.UTC)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:  # noqa: F811
    eng = make_engine(db_url)
    upgrade(eng)
    with eng.begin() as conn:
        add_user(conn, "alice", defaults=UserDefaults("EUR", 1000, True, 0))
    try:
        yield eng
    finally:
        eng.dispose()


_USER = (select(USERS.c.id, USERS.c.username, USERS.c.disabled, USERS.c.created_at,
                literal("fixed").label("kind"))
         .where(USERS.c.username == bindparam("name")))


def test_rows_are_those_of_connection_execute(engine: Engine) -> None:
    prepared = Prepared(_USER)
    with engine.begin() as conn:
        expected = [tuple(r) for r in conn.execute(_USER, {"name": "alice"})]
        got = prepared.rows(conn, {"name": "alice"})
    assert got == expected and len(got) == 1
    user_id, name, disabled, created, kind = got[0]
    # processed as SQLAlchemy processes them: not the driver's strings and integers
    assert isinstance(user_id, uuid.UUID) and disabled is False
    assert isinstance(created, dt.datetime) and (name, kind) == ("alice", "fixed")
    with engine.begin() as conn:
        assert prepared.first(conn, {"name": "bob"}) is None


def test_a_bind_used_twice_and_literals_between(engine: Engine) -> None:
    stmt = union_all(
        select(literal("a").label("k"), USERS.c.username).where(USERS.c.username == bindparam("n")),
        select(literal("b"), USERS.c.username).where(USERS.c.username == bindparam("n")))
    with engine.begin() as conn:
        assert Prepared(stmt).rows(conn, {"n": "alice"}) == [("a", "alice"), ("b", "alice")]


def ids(engine: Engine) -> tuple[uuid.UUID, uuid.UUID]:
    """alice's id and her account's."""
    with engine.begin() as conn:
        uid, aid = conn.execute(select(USERS.c.id, ACCOUNTS.c.id)
                            .join(ACCOUNTS, ACCOUNTS.c.owner_id == USERS.c.id)).one()
        return uid, aid


def test_an_insert_and_update_write_what_execute_writes(engine: Engine) -> None:
    user, account = ids(engine)
    job = uuid.uuid4()
    row = {"job_uuid": job, "account_id": account, "user_id": user, "printer": "p",
           "state": "reserved", "estimate": 12, "fee": 0, "impressions": 1,
           "reported_impressions": None, "charged": 12, "refunded": 0, "refunds": 0,
           "created_at": WHEN, "updated_at": WHEN, "node": "", "recorded": False}
    with engine.begin() as conn:
        Prepared(insert(CHARGES), columns=list(row)).run(conn, row)
        changed = Prepared(update(CHARGES).where(CHARGES.c.job_uuid == bindparam("job"))
                           .values(charged=bindparam("new"))).run(conn, {"job": job, "new": 7})
        assert changed == 1
        back = conn.execute(select(CHARGES).where(CHARGES.c.job_uuid == job)).one()._mapping
    # SQLite keeps no zone for DateTime(timezone=True): execute reads it back naive too
    assert back["created_at"].replace(tzinfo=dt.UTC) == WHEN
    assert back["charged"] == 7 and back["recorded"] is False


def test_returning_is_processed(engine: Engine) -> None:
    cols = [c.key for c in LEDGER.columns if c.key != "id"]
    account = ids(engine)[1]
    with engine.begin() as conn:
        rows = Prepared(insert(LEDGER).returning(LEDGER.c.id, LEDGER.c.created_at),
                        columns=cols).rows(conn, {
            "account_id": account, "amount": -5, "balance_after": 995, "kind": "charge",
            "reason": "r", "actor": "a", "job_uuid": None, "idempotency_key": "k",
            "created_at": WHEN})
        expected = conn.execute(select(LEDGER.c.id, LEDGER.c.created_at)
                                .where(LEDGER.c.idempotency_key == "k")).one()
    assert rows == [tuple(expected)] and isinstance(rows[0][0], int)
    assert rows[0][1].replace(tzinfo=dt.UTC) == WHEN


def test_driver_errors_are_sqlalchemys(engine: Engine) -> None:
    """A UNIQUE violation is an IntegrityError, which txn.in_transaction retries."""
    cols = [c.key for c in LEDGER.columns if c.key != "id"]
    stmt = Prepared(insert(LEDGER), columns=cols)
    row = {"account_id": ids(engine)[1], "amount": 1, "balance_after": 1, "kind": "adjust",
           "reason": "", "actor": "", "job_uuid": None, "idempotency_key": "same",
           "created_at": WHEN}
    with pytest.raises(IntegrityError), engine.begin() as conn:
        stmt.run(conn, row)
        stmt.run(conn, row)


def test_listeners_see_each_statement(engine: Engine) -> None:
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    with engine.begin() as conn:
        Prepared(_USER).rows(conn, {"name": "alice"})
    assert [s for s in seen if "acct_users" in s] and "FROM acct_users" in seen[-1]


def test_what_it_cannot_run_is_refused_when_compiled(engine: Engine) -> None:
    with engine.begin() as conn:
        with pytest.raises(ValueError, match="IN list"):
            Prepared(select(USERS.c.id).where(USERS.c.username.in_(bindparam("names",
                     expanding=True)))).rows(conn, {"names": ["alice"]})
        # the charge row's defaults (refunded, refunds...) are Python-side: name them all
        with pytest.raises(ValueError, match="default"):
            Prepared(insert(CHARGES), columns=["job_uuid", "state"]).run(conn, {})


def test_a_locked_begin_is_sqlalchemys_operational_error(tmp_path: Path) -> None:
    """make_engine's BEGIN IMMEDIATE runs on the driver's cursor; "database is locked"
    still comes back as SQLAlchemy's OperationalError, which txn.py retries."""
    path = tmp_path / "locked.db"
    engine = make_engine(f"sqlite:///{path}", busy_timeout_ms=0)
    upgrade(engine)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(OperationalError, match="database is locked"), engine.begin():
            pass
    finally:
        other.execute("ROLLBACK")
        other.close()
        engine.dispose()
