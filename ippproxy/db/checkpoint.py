"""SQLite's write-ahead log copied back into the database by a thread of its own.

Theory of operation
-------------------
In WAL mode every COMMIT appends pages to the ``-wal`` file, and a checkpoint copies them
back into the database file (https://sqlite.org/wal.html#checkpointing). SQLite runs that
checkpoint in the connection whose COMMIT leaves the log at ``wal_autocheckpoint`` pages
(1,000) or more: the job store's writer thread, or a caller of the ledger, then syncs the
log, copies every page of it, syncs the database, and only then answers its callers,
while every job behind it waits. Jobs whose small documents are committed with them
fill the log quickly, so that happens often.

:class:`Checkpointer` does the copying beforehand, in a thread of its own with a
connection of its own: it runs ``PRAGMA wal_checkpoint(PASSIVE)``, which takes no lock
that a writer or a reader waits for (https://sqlite.org/c3ref/wal_checkpoint_v2.html),
again ``min_interval`` seconds after a checkpoint that copied something, and at
intervals that double up to ``max_interval`` while there is nothing to copy (a
checkpoint with nothing to copy syncs nothing). When a COMMIT then reaches the
automatic checkpoint, the frames are already in the database: it copies only those
committed since the thread's last pass, and SQLite starts the log again from its
beginning at the next write transaction. The automatic checkpoint is kept on purpose:
SQLite restarts the log only when a write transaction begins while every frame is
copied, which a busy writer never lets happen after a checkpoint run by another
connection (it has committed more meanwhile), so without it the log would grow
without bound. If the thread's checkpoint is running when a COMMIT reaches the
automatic one, SQLite skips the automatic one (it does not wait) and tries again at
the next COMMIT. :meth:`close` stops the thread after one last checkpoint.

Durability is unchanged: before copying, a checkpoint syncs the log (so frames that the
job store's writer committed but had not synced yet, ``db/walsync.py``, are then on
disk) and syncs the database after, at the connection's ``synchronous`` level (FULL here,
https://sqlite.org/pragma.html#pragma_synchronous); it never removes a frame that is not
in the synced database. A failed checkpoint is logged and tried again; the automatic
checkpoint goes on regardless.
Only file-backed SQLite engines have a log: for anything else :meth:`start` does nothing.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from sqlalchemy import Engine

log = logging.getLogger(__name__)


class Checkpointer:
    """``Checkpointer(engine).start()`` ... ``close()``; ``checkpoints`` and ``frames``
    count the thread's checkpoints that copied something and the frames they copied,
    ``passes`` its rounds (tests, benchmarks)."""

    def __init__(self, engine: Engine, *, min_interval: float = 0.05,
                 max_interval: float = 1.0) -> None:
        self.engine = engine
        self.min_interval, self.max_interval = min_interval, max_interval
        self.passes = 0
        self.checkpoints = 0
        self.frames = 0
        self._copied = 0  # frames of the current log copied by the last checkpoint
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        url = engine.url
        self.enabled = (url.get_backend_name() == "sqlite"
                        and url.database not in (None, "", ":memory:"))

    def start(self) -> Checkpointer:
        if self.enabled and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint",
                                            daemon=True)
            self._thread.start()
        return self

    def close(self) -> None:
        """Stop the thread (it checkpoints once more on its way out); blocking."""
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join()
        self._thread = None

    def checkpoint(self, conn: Any) -> int:
        """One PASSIVE checkpoint on a driver connection (the thread's); returns the
        frames it copied."""
        self.passes += 1
        _busy, log_frames, copied = self._pragma(conn, "PASSIVE")
        if log_frames < 0:  # (-1: not in WAL mode)
            return 0
        # Frames copied so far from this log; a restarted log counts from 0 again.
        gained = copied - self._copied if copied >= self._copied else copied
        self._copied = copied
        if gained > 0:
            self.checkpoints += 1
            self.frames += gained
        return gained

    @staticmethod
    def _pragma(conn: Any, mode: str) -> tuple[int, int, int]:
        cur = conn.cursor()
        try:
            busy, log_frames, copied = cur.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
        finally:
            cur.close()
        return int(busy), int(log_frames), int(copied)

    def _run(self) -> None:
        pooled = self.engine.raw_connection()
        try:
            conn = pooled.dbapi_connection
            wait, stop = self.min_interval, False
            while not stop:
                stop = self._stop.wait(wait)
                try:
                    copied = self.checkpoint(conn)
                except Exception:  # the next round tries again
                    log.exception("checkpointing the SQLite log failed")
                    copied = 0
                wait = self.min_interval if copied else min(wait * 2, self.max_interval)
        finally:
            pooled.close()
