"""Group commit for SQLite: the units of work that arrive together, in one transaction.

Theory of operation
-------------------
A thread that calls :meth:`GroupCommit.run` while no batch is running becomes the
leader: it takes every unit waiting (its own first, at most ``MAX_BATCH``), opens one
write transaction (``BEGIN IMMEDIATE``), runs each unit in a SAVEPOINT of its own and
commits once; the other threads wait for their unit's outcome. Units that arrive
meanwhile wait for the next batch, led by the first of them (promoted when the batch
ends), so no caller runs batches for others for longer than one batch.

The units run one after the other with no SAVEPOINT (two statements a unit saved).
If one raises, the whole transaction is rolled back and the batch runs again, each
unit in a SAVEPOINT of its own: the unit that raises is rolled back to its savepoint
(what it wrote is gone, the others' is kept) and its caller gets the exception, as if it
had had a transaction of its own (a batch of one unit just hands its exception over).
Units only read and write the database, and ``txn.in_transaction`` may run them again
anyway, so running them twice is harmless. When BEGIN or COMMIT fails, nothing of the
batch is stored and every caller gets that error (``txn.in_transaction`` then retries
its unit alone).

The COMMIT does not wait for the disk: the batch's connection commits with
``synchronous=NORMAL`` (the log written, not synced), and the leader, once it has
committed and promoted the next leader, syncs the log with ``fdatasync``
(``db/walsync.py``, which argues why that is as durable as ``FULL``) and only then hands
the outcomes to its batch's callers. So the next batch runs while the previous one's
sync waits for the disk, and no caller hears of a unit before it is on disk. If the
sync fails, every caller of the batch gets that error (committed, but not promised),
and so does every later batch until a restart.

The order of the units in a batch is their arrival order; SQLite runs one writer at a
time anyway, so the outcome is that of the same units run one after the other.
A unit must not start another transaction on the same engine (it would wait for the
one it runs in; on SQLite that was a deadlock before too).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine

from ippproxy.db.walsync import WalSync

T = TypeVar("T")
MAX_BATCH = 64


class _Unit:
    def __init__(self, work: Callable[[Connection], Any]) -> None:
        self.work = work
        self.done = threading.Event()
        self.lead = False            # promoted: this unit's thread leads the next batch
        self.value: Any = None
        self.error: BaseException | None = None

    def outcome(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.value


class _UnitFailed(Exception):
    """Internal: a unit raised in the batch's first run (no savepoints)."""

    def __init__(self, unit: _Unit, error: Exception) -> None:
        super().__init__(str(error))
        self.unit, self.error = unit, error


class GroupCommit:
    """One per SQLite engine (``group_commit``); thread-safe."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._lock = threading.Lock()
        self._waiting: list[_Unit] = []
        self._running = False
        # File-backed SQLite: commits synced by the leader after the COMMIT (see above).
        self.wal_sync = WalSync.for_engine(engine)
        self._sync_lock = threading.Lock()
        self._committed = 0          # batches committed (numbered under _lock)
        self._synced = 0             # batches up to this number are on disk
        self.batches = 0             # transactions committed or failed (for tests, metrics)
        self.units = 0               # units run in them

    def run(self, work: Callable[[Connection], T]) -> T:
        unit = _Unit(work)
        with self._lock:
            self._waiting.append(unit)
            lead = not self._running
            self._running = True
        if not lead:
            unit.done.wait()
            if not unit.lead:
                result: T = unit.outcome()
                return result
        with self._lock:
            batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
        committed = False
        try:
            committed = self._execute(batch)
        finally:
            with self._lock:
                if self._waiting:
                    following = self._waiting[0]
                    following.lead = True
                    following.done.set()
                else:
                    self._running = False
            try:
                if committed and self.wal_sync is not None:
                    self._sync(batch)
            finally:
                for other in batch:
                    if other is not unit:
                        other.done.set()
        result = unit.outcome()
        return result

    def _sync(self, batch: list[_Unit]) -> None:
        """After the batch's COMMIT, while the next leader runs: the log on disk. One sync
        at a time; a sync that started after this batch's COMMIT covers it, so batches
        committed while a sync ran share the next one."""
        assert self.wal_sync is not None
        with self._lock:
            self._committed += 1
            mine = self._committed
        try:
            with self._sync_lock:
                if self._synced < mine:
                    with self._lock:
                        upto = self._committed  # every COMMIT before this sync starts
                    self.wal_sync.sync()
                    self._synced = upto
        except OSError as e:  # committed, perhaps not on disk: nobody may be told it is stored
            for unit in batch:
                unit.value, unit.error = None, e

    @staticmethod
    def _units(conn: Connection, batch: list[_Unit]) -> None:
        """The batch's units in one transaction: no savepoints unless one fails."""
        try:
            with conn.begin():
                for unit in batch:
                    try:
                        unit.value = unit.work(conn)
                    except Exception as e:
                        raise _UnitFailed(unit, e) from e
            return
        except _UnitFailed as failed:  # rolled back: nothing of the batch is stored
            if len(batch) == 1:
                failed.unit.value, failed.unit.error = None, failed.error
                return
        with conn.begin():
            for unit in batch:
                unit.value, unit.error = None, None
                try:
                    with conn.begin_nested():
                        unit.value = unit.work(conn)
                except Exception as e:  # noqa: BLE001 - the unit's own failure, for its caller
                    unit.error = e

    def _execute(self, batch: list[_Unit]) -> bool:
        """Run the batch in one transaction; True if it committed."""
        _inside.active = True
        try:
            with self.engine.connect() as conn:
                if self.wal_sync is not None:
                    self.wal_sync.lower(conn)
                try:
                    self._units(conn, batch)
                finally:
                    if self.wal_sync is not None:
                        try:
                            self.wal_sync.restore(conn)
                        except Exception:  # never back into the pool committing unsynced
                            conn.invalidate()
                            raise
            return True
        except BaseException as e:  # BEGIN or COMMIT failed: nothing of the batch is stored
            for unit in batch:
                unit.value, unit.error = None, e
            if not isinstance(e, Exception):
                raise
            return False
        finally:
            _inside.active = False
            self.batches += 1
            self.units += len(batch)


class _Inside(threading.local):
    active = False


_inside = _Inside()
_groups: weakref.WeakKeyDictionary[Engine, GroupCommit] = weakref.WeakKeyDictionary()
_groups_lock = threading.Lock()


def group_commit(engine: Engine) -> GroupCommit | None:
    """The engine's group commit, or None: not SQLite, or called from inside a batch."""
    if engine.dialect.name != "sqlite" or _inside.active:
        return None
    with _groups_lock:
        group = _groups.get(engine)
        if group is None:
            group = _groups[engine] = GroupCommit(engine)
        return group
