"""Durability of SQLite commits, made after the COMMIT by another thread.

Theory of operation
-------------------
With ``synchronous=FULL`` SQLite fsyncs its write-ahead log inside every COMMIT, and the
job store's one writer thread (``jobs/_writer.py``) can do nothing else meanwhile: the
next batch of jobs waits for the disk, then for its own COMMIT and fsync. The writer's
connection therefore commits with ``synchronous=NORMAL`` (the WAL frames are written
but not synced) and :class:`WalSync` then calls ``fdatasync`` on the ``-wal`` file from
a thread of its own. The writer hands every committed batch to that thread and goes on
with the next one; the callers of a batch are answered only when a sync that *started
after* their COMMIT has returned, so nothing is acknowledged before it is on disk, and
while one sync runs the writer already commits the batches that the next sync covers.

Why this is as durable as ``FULL``:

- ``fdatasync`` makes every byte written to the file before the call durable, from any
  file descriptor of that file. A COMMIT has written its frames (and a restarted log's
  new header) with ``pwrite`` before it returns, so one sync after it covers it and every
  earlier commit.
- In ``NORMAL`` mode SQLite still syncs the log before a checkpoint copies it into the
  database and syncs the database after (https://sqlite.org/pragma.html#pragma_synchronous),
  so frames that a restarted log overwrites are already in a synced database file.
- A crash between COMMIT and sync loses only unanswered batches: the log's frames carry
  checksums and salts, so recovery stops at the last complete commit that reached the
  disk; ``NORMAL`` never corrupts a database (same page).
- A failed sync fails every later one too, until a restart. After an fsync error the
  kernel may have dropped the dirty pages and cleared the error, so a later fsync could
  succeed over a hole; and the log's checksums are cumulative, so recovery would also
  drop every commit after the lost frames (PostgreSQL stops for the same reason).
- The log exists as long as one connection is open (the writer's); if SQLite replaced it
  (same path, new inode) the thread opens the new one, and it syncs the directory once
  after opening, so that the file's name is durable as well as its bytes.

The accounting's group commit (``accounting/groupcommit.py``) does the same with a
WalSync of its own: its batch's connection commits with ``NORMAL`` (:meth:`WalSync.lower`,
then :meth:`WalSync.restore` before the connection goes back to the pool), and the
leader that committed syncs while the next leader runs the next batch. ``sync`` may be
called from several threads: one at a time. Other connections to the same database
(readers, retries) keep ``FULL``. A
reader may see a job whose creator has not been answered yet; that is all, because a
writer op that depends on it (the forwarder's claim) commits later, and the sync that
answers it covers the earlier commit too. PostgreSQL has no equivalent at the client
and keeps its synchronous COMMIT.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Connection, Engine


class WalSync:
    """``prepare`` the writer's connection, then ``sync`` after each COMMIT (blocking)."""

    def __init__(self, database: str | Path) -> None:
        self.wal = Path(f"{database}-wal")
        self._fd = -1
        self._ino = -1
        self.failed: OSError | None = None
        self.syncs = 0  # statistics, for benchmarks and tests
        self._lock = threading.Lock()
        self._closer: Callable[[], object] | None = None

    @classmethod
    def for_engine(cls, engine: Engine) -> WalSync | None:
        """A WalSync for a file-backed SQLite engine; None for anything else."""
        url = engine.url
        if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
            return None
        return cls(str(url.database))

    def prepare(self, conn: Connection) -> None:
        """The writer's connection: COMMIT writes the log, :meth:`sync` makes it durable.
        Refused unless the database is in WAL mode (the reasoning above needs the log)."""
        self._set(conn, "NORMAL")

    def lower(self, conn: Connection) -> None:
        """:meth:`prepare` for a pooled connection, outside a transaction; call
        :meth:`restore` before it goes back to the pool."""
        self._set(conn, "NORMAL")

    def restore(self, conn: Connection) -> None:
        """A connection lowered by :meth:`lower` commits with ``FULL`` again."""
        self._set(conn, "FULL")

    @staticmethod
    def _set(conn: Connection, level: str) -> None:
        # On the driver's connection: through SQLAlchemy the PRAGMA would run inside the
        # BEGIN IMMEDIATE it issues first, where SQLite refuses to change the sync level.
        cur = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            if level != "FULL":
                (mode,) = cur.execute("PRAGMA journal_mode").fetchone()
                if str(mode).lower() != "wal":
                    raise RuntimeError(f"WalSync needs journal_mode=WAL, not {mode}")
            cur.execute(f"PRAGMA synchronous={level}")
        finally:
            cur.close()

    def sync(self) -> None:
        """Make every commit made so far durable; OSError if that cannot be promised."""
        with self._lock:
            self._sync_once()

    def _sync_once(self) -> None:
        if self.failed is not None:
            raise OSError(self.failed.errno, f"an earlier sync failed ({self.failed.strerror});"
                          " no more writes are promised until the server restarts")
        try:
            self._sync()
        except OSError as e:
            self.failed = e
            raise

    def _sync(self) -> None:
        try:
            ino = os.stat(self.wal).st_ino
        except FileNotFoundError:
            # No log: SQLite removed it after checkpointing everything into the database
            # (only when its last connection closes) and synced the database first.
            return
        if ino != self._ino:
            self.close()
            self._fd = os.open(self.wal, os.O_RDONLY | os.O_CLOEXEC)
            # Closed by close(), or when this object goes (one per engine, with it).
            self._closer = weakref.finalize(self, os.close, self._fd)
            self._ino = os.fstat(self._fd).st_ino
            dfd = os.open(self.wal.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            try:
                os.fsync(dfd)  # the log's name, once per log file
            finally:
                os.close(dfd)
        os.fdatasync(self._fd)
        self.syncs += 1

    def close(self) -> None:
        if self._fd >= 0:
            if self._closer is not None:
                self._closer()
            self._fd = -1
            self._ino = -1
