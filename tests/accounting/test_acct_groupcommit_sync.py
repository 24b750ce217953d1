"""The accounting's group commit syncs the log after its COMMIT (accounting/groupcommit.py,
db/walsync.py): a caller is answered only once a sync that started after its batch's
COMMIT has returned, and the next batch does not wait for that sync."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, event, text

from ippproxy.accounting.groupcommit import GroupCommit
from ippproxy.db import make_engine
from ippproxy.db.walsync import WalSync


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


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    with engine.begin() as c:
        c.execute(text("CREATE TABLE t (v INTEGER)"))
    return engine


def _insert(value: int) -> Callable[[Connection], int]:
    def work(conn: Connection) -> int:
        conn.execute(text("INSERT INTO t (v) VALUES (:v)"), {"v": value})
        return value
    return work


def _stored(engine: Engine) -> set[int]:
    with engine.connect() as c:
        return {int(v) for (v,) in c.execute(text("SELECT v FROM t"))}


def _until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def _in_thread(group: GroupCommit, value: int, out: dict[int, object]) -> threading.Thread:
    def run() -> None:
        try:
            out[value] = group.run(_insert(value))
        except Exception as e:  # noqa: BLE001 - the test looks at it
            out[value] = e
    t = threading.Thread(target=run)
    t.start()
    return t


def test_answered_after_the_sync_and_the_next_batch_runs_meanwhile(
        engine: Engine, tmp_path: Path) -> None:
    group = GroupCommit(engine)
    gate = GatedSync(tmp_path / "db.sqlite")
    group.wal_sync = gate
    out: dict[int, object] = {}
    first = _in_thread(group, 1, out)
    assert gate.started.wait(10)           # committed, its sync waiting for the disk
    assert _stored(engine) == {1} and 1 not in out
    second = _in_thread(group, 2, out)     # the next batch commits meanwhile
    _until(lambda: _stored(engine) == {1, 2})
    assert out == {}                       # nobody answered before a sync
    gate.go.set()
    first.join(10)
    second.join(10)
    assert out == {1: 1, 2: 2}
    assert 1 <= gate.syncs <= 2 and group.batches == 2


def test_a_failed_sync_fails_its_callers_and_the_later_ones(
        engine: Engine, tmp_path: Path) -> None:
    group = GroupCommit(engine)
    gate = GatedSync(tmp_path / "db.sqlite")
    gate.fail = OSError(5, "Input/output error")
    gate.go.set()
    group.wal_sync = gate
    with pytest.raises(OSError, match="Input/output"):
        group.run(_insert(1))
    gate.fail = None  # the next sync would succeed, but a hole may hide behind it
    with pytest.raises(OSError, match="earlier sync failed"):
        group.run(_insert(2))


def test_batches_commit_without_fsync_and_the_pool_gets_full_back(engine: Engine) -> None:
    group = GroupCommit(engine)
    assert group.wal_sync is not None
    level = group.run(lambda c: c.exec_driver_sql("PRAGMA synchronous").scalar_one())
    assert level == 1  # NORMAL: the leader's sync makes the commit durable
    assert group.wal_sync.syncs == 1
    with engine.connect() as c:  # the same pooled connection, FULL again for others
        assert c.exec_driver_sql("PRAGMA synchronous").scalar_one() == 2


def test_no_sync_without_a_file() -> None:
    assert GroupCommit(make_engine("sqlite://")).wal_sync is None


def _batch_behind_a_held_leader(group: GroupCommit, works: dict[int, Callable[[Connection], int]],
                                out: dict[int, object]) -> None:
    """Runs ``works`` as one batch: a first unit holds the leadership until they all wait."""
    entered, hold = threading.Event(), threading.Event()

    def leader(conn: Connection) -> int:
        entered.set()
        assert hold.wait(10)
        return 0

    threads = [threading.Thread(target=lambda: out.setdefault(0, group.run(leader)))]
    threads[0].start()
    assert entered.wait(10)

    def run(key: int, work: Callable[[Connection], int]) -> None:
        try:
            out[key] = group.run(work)
        except Exception as e:  # noqa: BLE001 - the test looks at it
            out[key] = e

    for key, work in works.items():
        threads.append(threading.Thread(target=run, args=(key, work)))
        threads[-1].start()
    _until(lambda: len(group._waiting) == len(works))
    hold.set()
    for t in threads:
        t.join(10)


def _savepoints(engine: Engine) -> list[str]:
    seen: list[str] = []

    def record(conn: object, cursor: object, statement: str, *rest: object) -> None:
        if statement.startswith("SAVEPOINT"):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    return seen


def test_a_batch_runs_without_savepoints_when_nothing_fails(engine: Engine) -> None:
    group = GroupCommit(engine)
    seen = _savepoints(engine)
    out: dict[int, object] = {}
    _batch_behind_a_held_leader(group, {1: _insert(1), 2: _insert(2), 3: _insert(3)}, out)
    assert out == {0: 0, 1: 1, 2: 2, 3: 3} and _stored(engine) == {1, 2, 3}
    assert group.batches == 2 and seen == []


def test_after_a_failure_the_batch_runs_again_with_a_savepoint_per_unit(
        engine: Engine) -> None:
    group = GroupCommit(engine)
    seen = _savepoints(engine)

    def fails(conn: Connection) -> int:
        conn.execute(text("INSERT INTO t (v) VALUES (2)"))
        raise ValueError("refused")

    out: dict[int, object] = {}
    _batch_behind_a_held_leader(group, {1: _insert(1), 2: fails, 3: _insert(3)}, out)
    assert out[1] == 1 and out[3] == 3 and isinstance(out[2], ValueError)
    assert _stored(engine) == {1, 3}  # the failing unit's row is gone, the others' kept
    assert len(seen) == 3             # the second run, one savepoint a unit
    with pytest.raises(ValueError):   # alone in its batch: its error, no second run
        group.run(fails)
    assert len(seen) == 3 and _stored(engine) == {1, 3}
