"""Group commit for SQLite: the units of work that arrive together, in one transaction.

Theory of operation
-------------------
A thread that calls :meth:`GroupCommit.run` while no batch is running becomes the
leader: it takes every unit waiting (its own first, at most ``MAX_BATCH``), opens one
write transaction (``BEGIN IMMEDIATE``), runs each unit in a SAVEPOINT of its own and
commits once; the other threads wait for their unit's outcome. Units that arrive
meanwhile wait for the next batch, led by the first of them (promoted when the batch
ends), so no caller runs batches for others for longer than one batch.

A unit that raises is rolled back to its savepoint (what it wrote is gone, the
others' is kept) and its caller gets the exception, as if it had had a transaction of
its own. When BEGIN or COMMIT fails, nothing of the batch is stored and every caller
gets that error (``txn.in_transaction`` then retries its unit alone).

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


class GroupCommit:
    """One per SQLite engine (``group_commit``); thread-safe."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._lock = threading.Lock()
        self._waiting: list[_Unit] = []
        self._running = False
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
        try:
            self._execute(batch)
        finally:
            with self._lock:
                if self._waiting:
                    following = self._waiting[0]
                    following.lead = True
                    following.done.set()
                else:
                    self._running = False
        result = unit.outcome()
        return result

    def _execute(self, batch: list[_Unit]) -> None:
        _inside.active = True
        try:
            with self.engine.begin() as conn:
                for unit in batch:
                    try:
                        with conn.begin_nested():
                            unit.value = unit.work(conn)
                    except Exception as e:  # noqa: BLE001 - the unit's own failure, for its caller
                        unit.error = e
        except BaseException as e:  # BEGIN or COMMIT failed: nothing of the batch is stored
            for unit in batch:
                unit.value, unit.error = None, e
            if not isinstance(e, Exception):
                raise
        finally:
            _inside.active = False
            self.batches += 1
            self.units += len(batch)
            for unit in batch:
                if not unit.lead:
                    unit.done.set()


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
