"""The job store's commits are made durable by a sync after the COMMIT (db/walsync.py):
nobody is answered before a sync that started after their COMMIT has returned."""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, text

from ippproxy.db import make_engine
from ippproxy.db.walsync import WalSync
from ippproxy.jobs._writer import GroupCommitWriter
from ippproxy.jobs.store import JobStore


class GatedSync(WalSync):
    """A real WalSync whose syncs wait for the test to let them run."""

    def __init__(self, database: str | Path) -> None:
        super().__init__(database)
        self.started = threading.Event()
        self.go = threading.Event()
        self.fail: OSError | None = None

    def _sync(self) -> None:
        self.started.set()
        assert self.go.wait(10)
        if self.fail is not None:
            raise self.fail
        super()._sync()


def _count(engine: Engine) -> int:
    with engine.connect() as c:
        return int(c.execute(text("SELECT count(*) FROM t")).scalar_one())


def _insert(conn: Connection) -> int:
    conn.execute(text("INSERT INTO t (v) VALUES (1)"))
    return 42


@pytest.fixture
def table_engine(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    with engine.begin() as c:
        c.execute(text("CREATE TABLE t (v INTEGER)"))
    return engine


async def test_a_caller_is_answered_only_after_the_sync_that_follows_its_commit(
        table_engine: Engine, tmp_path: Path) -> None:
    gate = GatedSync(tmp_path / "db.sqlite")
    writer = GroupCommitWriter(table_engine, wal_sync=gate)
    try:
        task = asyncio.ensure_future(writer.submit(_insert))
        assert await asyncio.to_thread(gate.started.wait, 10)
        # Committed (another connection sees the row) but not yet synced: no answer yet.
        assert await asyncio.to_thread(_count, table_engine) == 1
        await asyncio.sleep(0.05)
        assert not task.done()
        # The writer is not held up meanwhile: a second batch commits during the sync.
        second = asyncio.ensure_future(writer.submit(_insert))
        for _ in range(200):
            if await asyncio.to_thread(_count, table_engine) == 2:
                break
            await asyncio.sleep(0.01)
        assert await asyncio.to_thread(_count, table_engine) == 2 and not second.done()
        gate.go.set()
        assert await asyncio.wait_for(task, 10) == 42
        assert await asyncio.wait_for(second, 10) == 42
        assert gate.syncs >= 1
    finally:
        gate.go.set()
        await writer.close()


async def test_an_op_submitted_unsynced_is_answered_at_its_commit(
        table_engine: Engine, tmp_path: Path) -> None:
    """``synced=False``: answered once committed, while the sync is held up; a synced op
    of the same caller after it is answered only after a sync that covers both."""
    gate = GatedSync(tmp_path / "db.sqlite")
    writer = GroupCommitWriter(table_engine, wal_sync=gate)
    try:
        assert await asyncio.wait_for(writer.submit(_insert, synced=False), 10) == 42
        assert gate.syncs == 0 and not gate.started.is_set()
        synced = asyncio.ensure_future(writer.submit(_insert))
        assert await asyncio.to_thread(gate.started.wait, 10)
        await asyncio.sleep(0.05)
        assert not synced.done()
        gate.go.set()
        assert await asyncio.wait_for(synced, 10) == 42
        assert gate.syncs == 1 and await asyncio.to_thread(_count, table_engine) == 2
    finally:
        gate.go.set()
        await writer.close()


async def test_a_failed_sync_fails_its_callers(
        table_engine: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    gate = GatedSync(tmp_path / "db.sqlite")
    gate.fail = OSError(5, "Input/output error")
    gate.go.set()
    writer = GroupCommitWriter(table_engine, wal_sync=gate)
    try:
        with caplog.at_level(logging.CRITICAL), pytest.raises(OSError, match="Input/output"):
            await writer.submit(_insert)
        assert "syncing the write-ahead log failed" in caplog.text
        # The next sync would succeed, but a hole may hide behind it: no more successes.
        gate.fail = None
        with pytest.raises(OSError, match="earlier sync failed"):
            await writer.submit(_insert)
    finally:
        await writer.close()


async def test_the_writer_commits_without_fsync_and_the_others_with_it(
        table_engine: Engine, tmp_path: Path) -> None:
    writer = GroupCommitWriter(table_engine, wal_sync=WalSync(tmp_path / "db.sqlite"))
    try:
        level = await writer.submit(
            lambda c: c.exec_driver_sql("PRAGMA synchronous").scalar_one())
        assert level == 1  # NORMAL: the syncer makes the commit durable
    finally:
        await writer.close()
    with table_engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA synchronous").scalar_one() == 2  # FULL


def test_sync_follows_the_log_file(tmp_path: Path) -> None:
    ws = WalSync(tmp_path / "db.sqlite")
    ws.sync()  # no log yet: nothing to do, no error
    assert ws.syncs == 0
    wal = tmp_path / "db.sqlite-wal"
    wal.write_bytes(b"x")
    ws.sync()
    first = ws._ino
    assert first == os.stat(wal).st_ino and ws.syncs == 1
    wal.unlink()
    wal.write_bytes(b"y")  # a new log under the same name: the new file is synced
    ws.sync()
    assert ws._ino == os.stat(wal).st_ino and ws.syncs == 2
    ws.close()


def test_only_file_backed_sqlite_gets_one(tmp_path: Path) -> None:
    assert WalSync.for_engine(make_engine(f"sqlite:///{tmp_path / 'x.sqlite'}")) is not None
    assert WalSync.for_engine(make_engine("sqlite://")) is None
    assert WalSync.for_engine(make_engine("postgresql+psycopg://u@127.0.0.1:1/db")) is None


def test_the_refusal_outside_wal_mode(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    with engine.connect() as conn:
        conn.connection.dbapi_connection.execute(  # type: ignore[union-attr]
            "PRAGMA journal_mode=DELETE")
        with pytest.raises(RuntimeError, match="journal_mode=WAL"):
            WalSync(tmp_path / "db.sqlite").prepare(conn)


async def test_the_job_store_syncs_its_commits(engine: Engine) -> None:
    async with JobStore(engine) as store:
        await asyncio.gather(*(store.create_job("default", owner="u") for _ in range(20)))
        ws = store._writer._wal_sync
        assert ws is not None and 1 <= ws.syncs <= 20


async def test_a_batch_whose_callers_all_left_does_not_stop_the_syncer(
        table_engine: Engine, tmp_path: Path) -> None:
    gate = GatedSync(tmp_path / "db.sqlite")
    writer = GroupCommitWriter(table_engine, wal_sync=gate)
    hold = threading.Event()
    try:
        first = asyncio.ensure_future(writer.submit(lambda c: hold.wait(10)))
        await asyncio.sleep(0.05)                  # the writer is inside ``first``
        gone = asyncio.ensure_future(writer.submit(_insert))
        await asyncio.sleep(0.01)                  # queued behind it...
        gone.cancel()                              # ...and its caller leaves
        hold.set()                                 # ``first`` commits, its sync waits
        assert await asyncio.to_thread(gate.started.wait, 10)
        await asyncio.sleep(0.05)                  # the empty batch is committed meanwhile
        gate.go.set()
        assert await asyncio.wait_for(first, 10) is True
        # The next batch is answered: the empty one did not end the syncer.
        assert await asyncio.wait_for(writer.submit(_insert), 10) == 42
    finally:
        hold.set()
        gate.go.set()
        await writer.close()
