"""One writer thread with group commit.

Theory of operation
-------------------
Every change to the job store is a small synchronous function ``op(conn) -> T``.
Coroutines hand their op to :meth:`GroupCommitWriter.submit`, which puts it on a
queue and awaits a future. One thread owns one database connection and loops:

1. block until an op arrives, then take every other op already queued (up to
   ``max_batch``): everything submitted while the previous commit was syncing.
   Ops reach the queue once per pass of the event loop, not one by one: the first
   submit of a pass schedules a hand-over (``call_soon``) that runs after every
   coroutine already ready in that pass has submitted too. Handed over one by one,
   the thread would wake at the first op (while the loop is busy with the others'
   system calls) and commit it almost alone;
2. run them all in ONE transaction. If one op raises (unknown job, invalid
   transition), the transaction is rolled back and the batch is run again with each
   op in its own SAVEPOINT, so the failing op rolls back alone and does not spoil
   the others (ops only touch the database, so running them twice is harmless);
3. COMMIT (one fsync of the SQLite WAL, or one PostgreSQL commit for the lot);
4. only then resolve each caller's future with its result or exception (one
   ``call_soon_threadsafe`` per event loop and batch).

On SQLite the fsync of step 3 is taken out of the COMMIT (``db/walsync.py``): the
COMMIT only writes the log, and a second thread, the syncer, syncs it and then does
step 4, for every batch committed before its sync started. The writer meanwhile runs
the next batch, instead of waiting for the disk with the next callers queued behind it.

Ops of one kind can also be merged: :meth:`GroupCommitWriter.submit_many` items
with the same ``many`` function run as one call with all their arguments (job
creation uses it: a few statements per batch instead of per job). Within a batch
the order of ops is not defined; that is fine because a caller only submits an op
that depends on another after that other one has returned.

An op submitted with ``synced=False`` is answered right after its COMMIT, before the
sync: for a caller that tells nobody of it, only of a later op of its own (which is
answered after a sync of the log, and so after this one's: the log is synced in order).
The reservation of Send-Document's last document is one (the job's writes follow, and
then its answer): it saves the caller a wait for a sync and the syncer a hand-off.

So a caller never sees a result that is not durable (unless it asked), and N
concurrent callers share one fsync: the busier the server, the bigger the batches. If
the COMMIT itself fails, every caller of the batch gets that error and nothing of it is
stored. An op whose caller was cancelled before it ran is skipped.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine

from ippproxy.db.walsync import WalSync

log = logging.getLogger(__name__)
T = TypeVar("T")
X = TypeVar("X")
Op = Callable[[Connection], Any]
Many = Callable[[Connection, list[Any]], list[Any]]


@dataclass
class _Item:
    op: Op
    fut: asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop
    many: Many | None = None
    arg: Any = None
    synced: bool = True


_Done = tuple[_Item, Any, BaseException | None]


@dataclass(frozen=True)
class WriterStats:
    """What the writer has done since it started (for /metrics and benchmarks): ``ops``
    per batch is the group-commit factor; a batch's seconds run from taking its ops to
    its COMMIT's return (the statements, and waiting for the GIL between them); a sync's,
    the syncer's ``fdatasync`` of the log (SQLite only: PostgreSQL syncs in its COMMIT)."""

    batches: int
    ops: int
    batch_seconds: float
    syncs: int
    sync_seconds: float


class _OpFailed(Exception):
    """Internal: an op raised inside the fast path."""


def _resolve(fut: asyncio.Future[Any], result: Any, exc: BaseException | None) -> None:
    if fut.done():
        return
    if exc is not None:
        fut.set_exception(exc)
    else:
        fut.set_result(result)


def _resolve_all(results: list[_Done]) -> None:
    for item, result, exc in results:
        _resolve(item.fut, result, exc)


def _take(q: queue.SimpleQueue[list[X] | None], limit: int | None) -> tuple[list[X], bool]:
    """Block for the first list on ``q``, then add every list already queued, while
    fewer than ``limit`` items are taken. Also says whether the end mark (None) came."""
    first = q.get()
    if first is None:
        return [], True
    taken = list(first)
    while limit is None or len(taken) < limit:
        try:
            nxt = q.get_nowait()
        except queue.Empty:
            break
        if nxt is None:
            return taken, True
        taken += nxt
    return taken, False


class WriterClosed(RuntimeError):
    pass


class GroupCommitWriter:
    def __init__(self, engine: Engine, *, max_batch: int = 512, name: str = "jobstore-writer",
                 wal_sync: WalSync | None = None):
        self.engine = engine
        self.max_batch = max_batch
        self._q: queue.SimpleQueue[list[_Item] | None] = queue.SimpleQueue()
        # Ops submitted during the current pass of each event loop (see step 1).
        self._pending: dict[asyncio.AbstractEventLoop, list[_Item]] = {}
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._wal_sync = wal_sync
        # Committed batches waiting for their sync (None: the writer has stopped).
        self._unsynced: queue.SimpleQueue[list[_Done] | None] = queue.SimpleQueue()
        self._syncer = threading.Thread(target=self._sync_loop, name=f"{name}-sync",
                                        daemon=True) if wal_sync is not None else None
        self._closed = False
        # Statistics (stats()), each written by one thread only: the writer, the syncer.
        self.batches = 0
        self.ops = 0
        self._batch_seconds = 0.0
        self._syncs = 0
        self._sync_seconds = 0.0
        self._thread.start()
        if self._syncer is not None:
            self._syncer.start()

    async def submit(self, op: Callable[[Connection], T], *, synced: bool = True) -> T:
        """Run ``op(conn)`` in the next batch; returns its result once the COMMIT is
        durable (``synced=False``: once committed, see above)."""
        loop = asyncio.get_running_loop()
        result: T = await self._submit(_Item(op, loop.create_future(), loop,
                                             synced=synced))
        return result

    async def submit_many(self, many: Many, arg: Any) -> Any:
        """Like ``submit(lambda c: many(c, [arg])[0])``, but all submissions with the same
        ``many`` in one batch are run by one call ``many(conn, [arg1, arg2, ...])``."""
        loop = asyncio.get_running_loop()
        return await self._submit(
            _Item(lambda c: many(c, [arg])[0], loop.create_future(), loop, many, arg)
        )

    async def _submit(self, item: _Item) -> Any:
        if self._closed:
            raise WriterClosed("the job store is closed")
        pending = self._pending.get(item.loop)
        if pending is None:
            pending = self._pending[item.loop] = []
            item.loop.call_soon(self._hand_over, item.loop)
        pending.append(item)
        return await item.fut

    def stats(self) -> WriterStats:
        """The counts so far (read without a lock: each only grows, and a reader may see
        one a batch ahead of another)."""
        return WriterStats(self.batches, self.ops, self._batch_seconds, self._syncs,
                           self._sync_seconds)

    def _hand_over(self, loop: asyncio.AbstractEventLoop) -> None:
        items = self._pending.pop(loop, None)
        if items:
            self._q.put(items)

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            for loop in list(self._pending):  # submitted in this very pass: still run them
                self._hand_over(loop)
            self._q.put(None)
        await asyncio.to_thread(self._thread.join)
        if self._syncer is not None:
            await asyncio.to_thread(self._syncer.join)

    # -- the thread ---------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._loop()
        finally:
            self._unsynced.put(None)  # the syncer ends after the last committed batch

    def _connect(self) -> Connection:
        conn = self.engine.connect()
        if self._wal_sync is not None:
            try:
                self._wal_sync.prepare(conn)
            except BaseException:
                self._disconnect(conn)
                raise
        return conn

    def _loop(self) -> None:
        conn: Connection | None = None
        stop = False
        while not stop:
            batch, stop = _take(self._q, self.max_batch)
            if not batch:
                continue  # (the end mark alone)
            try:
                if conn is None:
                    conn = self._connect()
                self._execute(conn, batch)
            except Exception as e:  # connection or commit failure: the whole batch fails
                log.exception("job store batch of %d failed", len(batch))
                self._deliver_all([(item, None, e) for item in batch])
                if conn is not None:
                    try:
                        self._disconnect(conn)
                    except Exception:  # pragma: no cover
                        log.exception("closing the writer connection")
                    conn = None
        if conn is not None:
            self._disconnect(conn)

    def _disconnect(self, conn: Connection) -> None:
        if self._wal_sync is not None:
            # Not back into the pool: it commits without fsync (prepare), and another
            # user of the pool would take its commits for durable ones.
            conn.invalidate()
        conn.close()

    def _execute(self, conn: Connection, batch: list[_Item]) -> None:
        started = time.perf_counter()
        items = [i for i in batch if not i.fut.cancelled()]  # skip callers that went away
        try:  # fast path: no op fails, so no savepoints are needed
            with conn.begin():
                done: list[_Done] = []
                groups: dict[Many, list[_Item]] = {}
                for item in items:
                    if item.many is None:
                        done.append((item, self._call(item, conn), None))
                    else:
                        groups.setdefault(item.many, []).append(item)
                for many, group in groups.items():
                    results = self._call_many(many, group, conn)
                    done += [(item, r, None) for item, r in zip(group, results, strict=True)]
        except _OpFailed:  # (an error of COMMIT itself is not caught here)
            done = self._execute_isolated(conn, items)
        # Counted before any caller is answered: a caller then reads stats() complete.
        self.batches += 1
        self.ops += len(items)
        self._batch_seconds += time.perf_counter() - started
        if self._wal_sync is None:
            self._deliver_all(done)  # after COMMIT: durable
            return
        unsynced = [d for d in done if d[0].synced]
        if len(unsynced) < len(done):
            self._deliver_all([d for d in done if not d[0].synced])   # committed
        if unsynced:
            self._unsynced.put(unsynced)  # durable after the syncer's next sync

    def _sync_loop(self) -> None:
        """The syncer thread: one sync for every batch committed before it started."""
        assert self._wal_sync is not None
        stop = False
        while not stop:
            done, stop = _take(self._unsynced, None)
            if not done:
                continue  # (the end mark alone, or batches whose callers all went away)
            started = time.perf_counter()
            try:
                self._wal_sync.sync()
            except Exception as e:  # noqa: BLE001 - handed to every caller of the batches
                # Committed but perhaps not on disk: nobody may be told it is stored.
                log.critical("job store: syncing the write-ahead log failed: %s", e)
                done = [(item, None, e) for item, _, _ in done]
            self._syncs += 1
            self._sync_seconds += time.perf_counter() - started
            self._deliver_all(done)
        self._wal_sync.close()

    @staticmethod
    def _call(item: _Item, conn: Connection) -> Any:
        try:
            return item.op(conn)
        except Exception as e:
            raise _OpFailed from e

    @staticmethod
    def _call_many(many: Many, group: list[_Item], conn: Connection) -> list[Any]:
        try:
            return many(conn, [item.arg for item in group])
        except Exception as e:
            raise _OpFailed from e

    @staticmethod
    def _execute_isolated(conn: Connection, items: list[_Item]) -> list[_Done]:
        """Slow path after an op failed: rerun the batch, each op in its own SAVEPOINT,
        so the failing one rolls back alone. (Ops only touch the database, so running
        them again after the rollback is safe.)"""
        done: list[_Done] = []
        with conn.begin():
            for item in items:
                try:
                    with conn.begin_nested():
                        done.append((item, item.op(conn), None))
                except Exception as e:  # noqa: BLE001 - handed to the caller
                    done.append((item, None, e))
        return done

    @staticmethod
    def _deliver_all(done: list[_Done]) -> None:
        """Resolve the callers' futures: one wake-up of each event loop per batch."""
        loops: dict[asyncio.AbstractEventLoop, list[_Done]] = {}
        for d in done:
            loops.setdefault(d[0].loop, []).append(d)
        for loop, results in loops.items():
            try:
                loop.call_soon_threadsafe(_resolve_all, results)
            except RuntimeError:  # the loop is closed: nobody is waiting any more
                pass
