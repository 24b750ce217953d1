"""SQLite's log copied back by a thread of its own (ippproxy/db/checkpoint.py)."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Engine, text

from ippproxy.db import Checkpointer, make_engine

ROW = 40_000  # bytes per committed row: about ten pages of the log
PAGE = 4096


def _engine(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, data BLOB)"))
    return engine


def _commit_row(engine: Engine) -> None:
    with engine.begin() as conn:  # one COMMIT each, as the job store's batches
        conn.execute(text("INSERT INTO t (data) VALUES (:d)"), {"d": os.urandom(ROW)})


def _rows(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM t")).scalar_one())


def _left_to_copy(engine: Engine) -> int:
    raw = engine.raw_connection()  # (outside a transaction: SQLAlchemy's would begin one)
    try:
        busy, log_frames, copied = raw.cursor().execute(
            "PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        assert busy == 0
        return int(log_frames - copied)
    finally:
        raw.close()


def test_the_thread_copies_while_a_busy_writer_commits_and_the_log_stays_bounded(
        tmp_path: Path) -> None:
    """Commits that never pause: the thread copies their frames meanwhile, and the
    log still starts again (the automatic checkpoint kept), so its file stays near
    1,000 pages (a few commits more when the automatic checkpoint found the thread's
    running and waited for the next COMMIT) instead of holding all 24 MB committed."""
    engine = _engine(tmp_path)
    checkpointer = Checkpointer(engine, min_interval=0.005).start()
    rows = 0
    try:
        while rows < 600 or checkpointer.passes < 10:
            _commit_row(engine)
            rows += 1
        assert checkpointer.checkpoints >= 1 and checkpointer.frames >= ROW // PAGE
        wal = (tmp_path / "db.sqlite-wal").stat().st_size
        assert wal < 2000 * (PAGE + 24)
        assert rows * ROW > 2 * wal
    finally:
        checkpointer.close()
    assert _rows(engine) == rows
    engine.dispose()


def test_close_checkpoints_once_more(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    checkpointer = Checkpointer(engine, min_interval=3600, max_interval=3600).start()
    for _ in range(50):  # 500 pages: under the automatic checkpoint's 1,000
        _commit_row(engine)
    assert checkpointer.checkpoints == 0
    checkpointer.close()
    assert checkpointer.checkpoints == 1 and checkpointer.frames >= 50 * ROW // PAGE
    assert _left_to_copy(engine) == 0 and _rows(engine) == 50
    engine.dispose()


def test_an_idle_log_is_left_alone(tmp_path: Path) -> None:
    """Nothing committed, nothing copied: passes that find nothing count no checkpoint."""
    engine = _engine(tmp_path)
    _commit_row(engine)
    checkpointer = Checkpointer(engine, min_interval=0.001, max_interval=0.002).start()
    try:
        while checkpointer.passes < 20:
            checkpointer._stop.wait(0.005)
    finally:
        checkpointer.close()
    assert checkpointer.checkpoints == 1  # the table's and the row's frames, once
    engine.dispose()


def test_nothing_to_do_without_a_log() -> None:
    engine = make_engine("sqlite:///:memory:")
    checkpointer = Checkpointer(engine).start()
    assert not checkpointer.enabled and checkpointer._thread is None
    checkpointer.close()
