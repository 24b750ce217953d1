"""Engine factory and schema migration.

SQLite runs in WAL mode with ``synchronous=FULL`` so that a committed row is
on disk when ``commit()`` returns (the durability promise behind
``successful-ok``). The one exception is the job store's writer connection, which
commits with ``NORMAL`` and syncs the log itself before it answers anyone
(``db/walsync.py``). PostgreSQL needs nothing special: commit is durable.

A PostgreSQL connection can die in the pool (a server restart, a network cut). One
that has been idle for more than ``ping_after_idle`` seconds is pinged before it is
handed out, and replaced when the ping fails (SQLAlchemy's "pessimistic" disconnect
handling, with a ``DisconnectionError`` from the checkout event); one given back a
moment ago is not: a busy server checks a connection out a few times per job, and a
ping on each (``pool_pre_ping``) is a round trip on each. A connection that dies
within that moment fails the statement that uses it, as one in use when the server
went away does, and SQLAlchemy then invalidates the pool.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError

MIGRATIONS = Path(__file__).parent / "migrations"
# Connections the SQLite pool keeps. A server's threads (the job store's readers, writer
# and syncer, the ledger's group commit, the event loop's executor, the checkpointer) use
# the engine at once; with SQLAlchemy's default of 5 (+10 overflow, closed when returned)
# the overflow was reopened and closed again and again (about one a job under load with
# accounting on, each running the PRAGMAs below and parsing the schema anew).
SQLITE_POOL = 32
# Connections a server process keeps to PostgreSQL (``storage.pool_size``), and as many
# again opened for a burst and closed when given back. The same threads use them; with
# SQLAlchemy's default of 5 a loaded node opened a new connection (a backend forked,
# authenticated, its prepared statements made anew) every 16 jobs or so.
PG_POOL = 16
MIGRATION_LOCK = 0x69707078  # pg_advisory_lock key of schema upgrades ("ippx")
PING_AFTER_IDLE = 1.0        # seconds (see the module's docstring)
_IDLE_SINCE = "ippproxy_idle_since"


def make_engine(url: str, *, busy_timeout_ms: int = 30000,
                ping_after_idle: float = PING_AFTER_IDLE, pg_pool: int = PG_POOL,
                **kwargs: Any) -> Engine:
    """Create an engine for ``url`` (``sqlite:///path`` or ``postgresql+psycopg://...``).
    ``busy_timeout_ms``: how long a SQLite statement waits for a lock before it fails;
    ``ping_after_idle``: after how long in the pool a PostgreSQL connection is pinged;
    ``pg_pool``: PostgreSQL connections kept in the pool (as many again for a burst)."""
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
    kwargs.setdefault("pool_size", pg_pool)
    kwargs.setdefault("max_overflow", pg_pool)
    engine = create_engine(url, **kwargs)
    _ping_when_idle(engine, ping_after_idle)
    return engine


def _ping_when_idle(engine: Engine, after: float) -> None:
    dialect = engine.dialect

    @event.listens_for(engine, "connect")
    def _made(_dbapi_conn: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_conn: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _lent(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        if time.monotonic() - record.info.get(_IDLE_SINCE, 0.0) <= after:
            return
        try:
            dialect.do_ping(dbapi_conn)
        except dialect.loaded_dbapi.Error as e:
            # The pool discards this connection and checks out another (three tries).
            raise DisconnectionError(f"a pooled connection is gone: {e}") from e


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
    """Reads that change nothing. On SQLite a snapshot, ``BEGIN DEFERRED`` (WAL), so the
    reader neither waits for the writer nor holds the write lock while it reads, as a
    plain ``engine.connect()`` does (its ``BEGIN IMMEDIATE`` from ``make_engine``). On
    PostgreSQL no transaction (autocommit): under READ COMMITTED, the server's default
    and ours, each statement reads its own snapshot inside a transaction or out of
    one, so a BEGIN and a COMMIT would only add two round trips."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="AUTOCOMMIT")
        else:
            conn.execution_options(sqlite_begin="DEFERRED")
        with conn.begin():
            yield conn


def head_revision() -> str:
    """The newest migration's revision: migrations are numbered, and each one's revision
    is its file's name (tests/db/test_migrations.py checks that this is Alembic's head)."""
    return max(p.stem for p in (MIGRATIONS / "versions").glob("[0-9]*.py"))


def _at_head(engine: Engine) -> bool:
    """The database's schema is at :func:`head_revision` (no table yet: not)."""
    try:
        with reading(engine) as conn:
            versions = conn.execute(text("SELECT version_num FROM alembic_version")).all()
    except DBAPIError:   # no alembic_version: a new database
        return False
    return [v for (v,) in versions] == [head_revision()]


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` with Alembic (idempotent). A database already at
    the head is told so by one read, without importing Alembic or loading its scripts:
    every ``ippproxy cmd`` and server start opens the database (bench_startup.py)."""
    if revision == "head" and _at_head(engine):
        return
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
