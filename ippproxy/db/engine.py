"""Engine factory and schema migration.

SQLite runs in WAL mode with ``synchronous=FULL`` so that a committed row is
on disk when ``commit()`` returns (the durability promise behind
``successful-ok``). The one exception is the job store's writer connection, which
commits with ``NORMAL`` and syncs the log itself before it answers anyone
(``db/walsync.py``). PostgreSQL needs nothing special: commit is durable.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

MIGRATIONS = Path(__file__).parent / "migrations"
# Connections the SQLite pool keeps. A server's threads (the job store's readers, writer
# and syncer, the ledger's group commit, the event loop's executor, the checkpointer) use
# the engine at once; with SQLAlchemy's default of 5 (+10 overflow, closed when returned)
# the overflow was reopened and closed again and again (about one a job under load with
# accounting on, each running the PRAGMAs below and parsing the schema anew).
SQLITE_POOL = 32
MIGRATION_LOCK = 0x69707078  # pg_advisory_lock key of schema upgrades ("ippx")


def make_engine(url: str, *, busy_timeout_ms: int = 30000, **kwargs: Any) -> Engine:
    """Create an engine for ``url`` (``sqlite:///path`` or ``postgresql+psycopg://...``).
    ``busy_timeout_ms``: how long a SQLite statement waits for a lock before it fails."""
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            Path(u.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {"check_same_thread": False,
                                           "timeout": busy_timeout_ms / 1000})
        if u.database and u.database != ":memory:":
            kwargs.setdefault("pool_size", SQLITE_POOL)
            kwargs.setdefault("max_overflow", SQLITE_POOL)
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy, not pysqlite, decide when transactions begin.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            # BEGIN IMMEDIATE: take the write lock up front so two writers never
            # deadlock upgrading a read lock (SQLite's "database is locked").
            # Readers opt out with execution_options(sqlite_begin="DEFERRED") so
            # they never wait for (or block) the writer: WAL gives them a snapshot.
            mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
            if mode not in ("IMMEDIATE", "DEFERRED", "EXCLUSIVE"):
                raise ValueError(f"bad sqlite_begin mode {mode!r}")
            # The driver's own cursor: Connection.exec_driver_sql costs more than the
            # BEGIN itself (an execution context for a statement that returns nothing).
            # Its errors ("database is locked") become SQLAlchemy's, as txn.py expects.
            sql = f"BEGIN {mode}"
            try:
                conn.connection.dbapi_connection.execute(sql)
            except sqlite3.Error as e:
                raise DBAPIError.instance(sql, (), e, sqlite3.Error) from e

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def nowait_reader(engine: Engine) -> Engine | None:
    """For a SQLite file: a second, small engine on the same database whose statements
    never wait for a lock (``busy_timeout`` 0), for a short read on the event loop's own
    thread, which must not block; its caller falls back to a thread on
    ``OperationalError`` (a locked database: WAL recovery, an exclusive lock of another
    process). None for PostgreSQL (a network round trip) and in-memory SQLite."""
    u = engine.url
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    return make_engine(u.render_as_string(hide_password=False), busy_timeout_ms=0,
                       pool_size=1, max_overflow=2)


@contextlib.contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A read-only snapshot: on SQLite ``BEGIN DEFERRED`` (WAL), so the reader neither
    waits for the writer nor holds the write lock while it reads, as a plain
    ``engine.connect()`` does (its ``BEGIN IMMEDIATE`` from ``make_engine``)."""
    with engine.connect() as conn:
        conn.execution_options(sqlite_begin="DEFERRED")
        with conn.begin():
            yield conn


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` with Alembic (idempotent)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def upgrade_locked(engine: Engine) -> None:
    """:func:`upgrade` to head; on PostgreSQL one node at a time (a session advisory lock),
    so that nodes started together on a fresh database do not both create the tables."""
    if engine.dialect.name != "postgresql":
        upgrade(engine)
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
        try:
            upgrade(engine)
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
