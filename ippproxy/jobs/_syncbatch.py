"""Durability for spool documents in batches: one thread, one directory fsync per batch.

Theory of operation
-------------------
Finishing a spooled document means: write what is still pending, fsync the file,
rename it to its final name, fsync the directory. Done by a pool thread per
document, every one of those system calls gives the GIL away and waits to get it
back from a busy event loop, and concurrent documents each pay for their own
directory fsync.

Here one daemon thread per :class:`SyncBatcher` (``spool-sync``; a Spool makes its
own batcher unless the caller passes one, which several spools may share) takes all
the documents waiting when it wakes (up to ``MAX_BATCH``) and finishes them together: phase 1 writes each one (``prepare``);
phase 2 fsyncs them (``flush``) at the same time, the first in this thread and the
others in a few helper threads, because the file system commits fsyncs that wait
together in one journal commit while serial ones each pay for their own; phase 3
closes and renames each one (``seal``); phase 4 fsyncs each spool directory once
for the whole batch. Only then is each document's future resolved, so a caller
never sees a name that is not durable. A document whose phase fails gets its own
exception and the others go on; a failed directory fsync fails every document of
that directory in the batch.

``submit`` (on the event loop) returns an asyncio future; the thread resolves the
futures of a batch with one ``call_soon_threadsafe`` per event loop, not one per
document. Cleanup after a cancellation is handed to ``after``: it runs at once if the
thread is done with the document, else in the thread right after it, so it never
races the thread's use of the file.

The thread starts on the first submit and ends after ``idle`` seconds without work (it
starts again with the next submit), so a batcher nobody uses any more holds no thread.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import queue
import threading
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger(__name__)

MAX_BATCH = 256
# Seconds without a document after which the batch thread ends (restarted on demand).
IDLE = 30.0


class Sealable(Protocol):
    """A document the batch thread can finish (``SpoolWriter``)."""

    def prepare(self) -> None:
        """Write what is still pending (the file is open afterwards)."""

    def flush(self) -> None:
        """fsync the file (several documents' fsyncs run at the same time)."""

    def seal(self) -> None:
        """Close the file, rename it to its final name."""

    def directory_sync(self) -> None:
        """fsync the directory the document is in (once per batch and directory)."""

    @property
    def directory_key(self) -> object:
        """Documents with the same key share one directory fsync."""


class Ticket:
    """One submitted document: its future, and cleanup to run once the thread is done."""

    __slots__ = ("_after", "_done", "_lock", "doc", "error", "future", "loop")

    def __init__(self, doc: Sealable, loop: asyncio.AbstractEventLoop) -> None:
        self.doc = doc
        self.loop = loop
        self.future: asyncio.Future[None] = loop.create_future()
        self.error: BaseException | None = None
        self._lock = threading.Lock()
        self._done = False
        self._after: Callable[[], None] | None = None

    def after(self, cleanup: Callable[[], None]) -> None:
        """Run ``cleanup`` now if the thread is done with the document, else right after."""
        with self._lock:
            if not self._done:
                self._after = cleanup
                return
        cleanup()

    def _finished(self) -> None:
        with self._lock:
            self._done = True
            cleanup, self._after = self._after, None
        if cleanup is not None:
            try:
                cleanup()
            except Exception:  # pragma: no cover - cleanup must not stop the thread
                log.exception("spool cleanup failed")


def _deliver(tickets: list[Ticket]) -> None:
    for t in tickets:
        if t.future.done():
            continue
        if t.error is not None:
            t.future.set_exception(t.error)
        else:
            t.future.set_result(None)


class SyncBatcher:
    """``await batcher.submit(doc)`` returns once ``doc`` is durable."""

    def __init__(self, name: str = "spool-sync", idle: float = IDLE) -> None:
        self._name = name
        self._idle = idle
        self._q: queue.SimpleQueue[Ticket] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._pool = concurrent.futures.ThreadPoolExecutor(8, thread_name_prefix="spool-fsync")
        self.batches = 0  # statistics, for benchmarks
        self.documents = 0

    def submit(self, doc: Sealable) -> Ticket:
        """Queue ``doc`` (call on the event loop); await ``ticket.future``."""
        ticket = Ticket(doc, asyncio.get_running_loop())
        self._q.put(ticket)
        self._ensure_thread()
        return ticket

    @property
    def running(self) -> bool:
        """The batch thread is alive (it ends when idle)."""
        return self._thread is not None

    def _ensure_thread(self) -> None:
        # Always under the lock: the thread decides to end under it too, after seeing the
        # queue empty, so a ticket queued meanwhile is never left without a thread.
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()

    def _next(self) -> Ticket | None:
        """The next ticket, or None when the thread should end (idle, queue empty)."""
        while True:
            try:
                return self._q.get(timeout=self._idle)
            except queue.Empty:
                with self._lock:
                    if self._q.empty():
                        self._thread = None
                        return None

    def _run(self) -> None:
        while True:
            first = self._next()
            if first is None:
                return
            batch = [first]
            while len(batch) < MAX_BATCH:
                try:
                    batch.append(self._q.get_nowait())
                except queue.Empty:
                    break
            try:
                self._finish(batch)
            except BaseException as e:  # pragma: no cover - a bug; never leave callers hanging
                log.exception("spool sync batch failed")
                for t in batch:
                    t.error = t.error or e
            for t in batch:
                t._finished()
            loops: dict[asyncio.AbstractEventLoop, list[Ticket]] = {}
            for t in batch:
                loops.setdefault(t.loop, []).append(t)
            for loop, tickets in loops.items():
                try:
                    loop.call_soon_threadsafe(_deliver, tickets)
                except RuntimeError:  # that loop is closed: nobody waits any more
                    pass

    def _finish(self, batch: list[Ticket]) -> None:
        self._each(batch, "prepare")
        self._flush(batch)
        self._each(batch, "seal")
        synced: dict[object, BaseException | None] = {}
        for t in batch:
            if t.error is not None:
                continue
            key = t.doc.directory_key
            if key not in synced:
                try:
                    t.doc.directory_sync()
                    synced[key] = None
                except Exception as e:  # noqa: BLE001 - handed to the callers
                    synced[key] = e
            t.error = synced[key]
        self.batches += 1
        self.documents += len(batch)

    @staticmethod
    def _each(batch: list[Ticket], phase: str) -> None:
        for item in batch:
            if item.error is None:
                try:
                    getattr(item.doc, phase)()
                except Exception as e:  # noqa: BLE001 - handed to the caller
                    item.error = e

    def _flush(self, batch: list[Ticket]) -> None:
        """fsync every file of the batch, concurrently: the file system commits fsyncs
        that wait at the same moment together (one journal commit), serial ones each
        pay for their own."""
        todo = [item for item in batch if item.error is None]
        if len(todo) <= 1:
            self._each(todo, "flush")
            return
        futures = [(item, self._pool.submit(item.doc.flush)) for item in todo[1:]]
        self._each(todo[:1], "flush")
        for item, f in futures:
            try:
                f.result()
            except Exception as e:  # noqa: BLE001 - handed to the caller
                item.error = e

