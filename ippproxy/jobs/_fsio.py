"""Blocking file-system helpers for the spool: writing a whole buffer, a per-fd worker
that never races its own cleanup, and a grouped directory fsync."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

# Threads of a spool's pool (``new_pool``).
POOL_WORKERS = 16


def new_pool() -> concurrent.futures.ThreadPoolExecutor:
    """A pool for a spool's disk and zlib work (each Spool makes one unless given one);
    separate from the default pool so that many uploads cannot starve other to_thread
    users (and vice versa). Its idle threads end when it is garbage-collected."""
    return concurrent.futures.ThreadPoolExecutor(max_workers=POOL_WORKERS,
                                                 thread_name_prefix="spool")


def write_all(fd: int, data: bytes) -> None:
    """``os.write`` until every byte is written (it may write less than asked)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


class FdWorker:
    """Runs blocking calls about one fd in ``pool``; cleanup never races a running call.

    ``asyncio.to_thread`` cannot be used here: cancelling the awaiting task leaves the
    thread running, and closing the fd under it could make it write into whatever
    file reuses that fd number.
    """

    def __init__(self, pool: concurrent.futures.Executor) -> None:
        self._pool = pool
        self._cf: concurrent.futures.Future[Any] | None = None

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        return await self.track(self._pool.submit(fn, *args))

    async def track(self, cf: concurrent.futures.Future[T]) -> T:
        """Await work about this fd started elsewhere (the spool's batch thread)."""
        self._cf = cf
        return await asyncio.wrap_future(cf)

    def after(self, cleanup: Callable[[], None]) -> None:
        """Run ``cleanup`` now, or as soon as the call in flight has finished."""
        cf = self._cf
        if cf is None:
            cleanup()
        else:
            cf.add_done_callback(lambda _f: cleanup())  # runs at once if already done


class DirSync:
    """fsync of one directory, shared by concurrent callers (group commit for renames).

    A caller needs a sync that *starts* after its rename. If one is running, it
    waits for it to end and for the next one, which one caller runs for everybody
    who arrived in the meantime: N concurrent renames cost about 2 fsyncs, not N.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._cond = threading.Condition()
        self._requested = 0  # tickets handed out
        self._synced = 0  # every ticket up to this one is durable
        self._running = False
        self.syncs = 0

    def sync(self) -> None:
        with self._cond:
            self._requested += 1
            ticket = self._requested
            while self._synced < ticket:
                if self._running:
                    self._cond.wait()
                    continue
                self._running = True
                target = self._requested  # covers every rename done before this point
                ok = False
                self._cond.release()
                try:
                    self._fsync()
                    ok = True
                finally:
                    self._cond.acquire()
                    self._running = False
                    if ok:
                        self._synced = max(self._synced, target)
                        self.syncs += 1
                    self._cond.notify_all()

    def _fsync(self) -> None:
        fd = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
