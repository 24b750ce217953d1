"""A new SQLite database gets the engine's page size; one made before keeps its own."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from sqlalchemy import text

from ippproxy.db import make_engine
from ippproxy.db.engine import SQLITE_PAGE_SIZE, upgrade


def _pragma(path: Path, name: str) -> object:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute(f"PRAGMA {name}").fetchone()[0]


def test_a_new_database_has_the_smaller_pages_and_the_log(tmp_path: Path) -> None:
    """SQLite's default is 4,096 bytes: the pragma has to come before WAL mode and the
    first table, which is what every connection's set-up does."""
    path = tmp_path / "new.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    assert SQLITE_PAGE_SIZE == 2048
    assert _pragma(path, "page_size") == SQLITE_PAGE_SIZE
    assert _pragma(path, "journal_mode") == "wal"


def test_a_database_made_before_keeps_its_pages_and_works(tmp_path: Path) -> None:
    """A database of 4,096-byte pages, already in WAL mode with a table in it, is not
    changed (SQLite cannot, in WAL mode): the schema is added and rows go in and out."""
    path = tmp_path / "old.db"
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute("PRAGMA page_size=4096")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE earlier (x INTEGER)")
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO earlier (x) VALUES (1)"))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM earlier")).scalar() == 1
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
    engine.dispose()
    assert _pragma(path, "page_size") == 4096
