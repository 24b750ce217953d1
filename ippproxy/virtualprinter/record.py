"""The virtual printer's job-ids, continued across restarts, and its kept documents,
never overwritten.

Theory of operation
-------------------
A printer's job-id identifies a job for as long as the printer exists (RFC 8011 §5.3.2
"job-id"); tests and demos read the documents the printer kept as
``job-<job-id>-<document-number>.prn``. So the next job-id lives beside them, in
``next-job-id`` of the printer's directory, and is written before the id is handed out:
a temporary file, fsync, rename over the old one, fsync of the directory (POSIX rename is
atomic), so a crash at any point never hands one id out twice.

Handing out an id holds an exclusive ``flock`` on ``next-job-id.lock``: nodes that share
a spool directory (README, "Several nodes") each run their own printer on the same
directory and still never share an id. An id is also passed over while any
``job-<id>-*.prn`` exists (an id file lost or restored from an old backup), and a
document file is created exclusively (``O_EXCL``, :func:`create_document`): an existing
file is never overwritten.

Without a directory of its own (a temporary one) the printer counts in memory only.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from pathlib import Path
from typing import BinaryIO

log = logging.getLogger(__name__)

ID_FILE = "next-job-id"
LOCK_FILE = "next-job-id.lock"


def document_path(directory: Path, job_id: int, number: int) -> Path:
    return directory / f"job-{job_id}-{number}.prn"


class NotStored(Exception):
    """The printer's storage could not take a document or its job-id counter (full,
    read-only): the sender is told to try again later, as by a printer with a full disk.
    ``reason``: the sentence for status-message."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def create_document(path: Path) -> BinaryIO:
    """Open a new document file for writing; FileExistsError rather than overwrite."""
    return path.open("xb")


class JobIds:
    """The printer's job-id counter; ``durable`` keeps it in ``directory`` (see above)."""

    def __init__(self, directory: Path, *, durable: bool) -> None:
        self.directory = directory
        self.durable = durable
        self._last = 0
        self._lock = threading.Lock()   # callers may be threads (asyncio.to_thread)

    def next(self) -> int:
        """The next job-id (blocking: a small synced write when durable)."""
        with self._lock:
            if not self.durable:
                self._last += 1
                return self._last
            fd = os.open(self.directory / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                job_id = max(self._read(), self._last + 1)
                while any(self.directory.glob(f"job-{job_id}-*.prn")):
                    job_id += 1
                self._write(job_id + 1)
            finally:
                os.close(fd)  # releases the flock
            self._last = job_id
            return job_id

    def _read(self) -> int:
        try:
            text = (self.directory / ID_FILE).read_bytes().strip()
        except FileNotFoundError:
            return 1
        if not (text.isdigit() and len(text) <= 10):
            # Damaged: the kept documents still keep their ids from being reused.
            log.warning("%s: not a job-id (%r); counting on from the documents",
                        self.directory / ID_FILE, text[:40])
            return 1
        return max(int(text), 1)

    def _write(self, next_id: int) -> None:
        tmp = self.directory / f".{ID_FILE}.{os.getpid()}.tmp"
        with tmp.open("w", encoding="ascii") as f:
            f.write(f"{next_id}\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.directory / ID_FILE)
        dfd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
