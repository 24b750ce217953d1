"""The SQLite engine keeps a connection for each of the server's threads."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError

from ippproxy.db import make_engine
from ippproxy.db.engine import nowait_reader, reading


def test_many_threads_reuse_their_connections(tmp_path: Path) -> None:
    """Sixteen threads reading at once, twice: the second round opens no connection
    (the default pool of 5 closed its overflow on return, so each round reopened it)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'pool.db'}")
    opened: list[object] = []
    event.listen(engine, "connect", lambda conn, rec: opened.append(conn))
    barrier = threading.Barrier(16)

    def reader() -> None:
        with reading(engine) as conn:
            barrier.wait(timeout=10)   # all sixteen hold a connection at the same time
            assert conn.execute(text("SELECT 1")).scalar() == 1

    def round_() -> None:
        threads = [threading.Thread(target=reader) for _ in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=20)

    round_()
    first = len(opened)
    assert first == 16
    round_()
    assert len(opened) == first, "connections were reopened"
    engine.dispose()


def test_the_nowait_reader_fails_at_once_on_a_locked_database(tmp_path: Path) -> None:
    """Another process holds the database (exclusive locking mode, WAL: no reader gets
    in): the nowait engine's read fails at once instead of waiting 30 s."""
    path = tmp_path / "locked.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    engine.dispose()
    nowait = nowait_reader(engine)
    assert nowait is not None
    with nowait.connect() as conn:
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 0
    nowait.dispose()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("COMMIT")                     # the lock stays until it closes
    try:
        started = time.monotonic()
        with pytest.raises(OperationalError), reading(nowait) as conn:
            conn.execute(text("SELECT count(*) FROM t")).scalar()
        assert time.monotonic() - started < 1.0
    finally:
        holder.close()
        nowait.dispose()
    with reading(nowait) as conn:                # and reads once the lock is gone
        assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 0
    nowait.dispose()
