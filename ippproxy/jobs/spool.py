"""The spool: document bytes on disk, streamed in, durable before acknowledgement.

Theory of operation
-------------------
A document arrives as a stream of chunks. The :class:`SpoolWriter` collects them
until about 1 MiB is pending, then hands the batch to a spool worker thread that
decompresses it (IPP ``compression``, RFC 8011 §5.4.32: gzip or deflate), hashes it
(sha256 of the *decompressed* bytes) and writes it. The first batch creates the
file ``.<hex>.tmp`` (``O_CREAT | O_EXCL | O_NOFOLLOW``, mode 0600; ``<hex>`` is
``ids.spool_name()``: time and kernel randomness, never client text); a small document costs a single thread hop.
The event loop never blocks on disk or zlib, and memory is bounded by the batch
size: decompression emits at most one batch of output at a time (``max_length``),
so a decompression bomb is stopped as soon as the output passes ``max_bytes``.

On a clean exit of the ``async with`` block the last batch is written, the file
is fsync'd, renamed to its final name and the directory is fsync'd, all by the
batch thread of :mod:`ippproxy.jobs._syncbatch` together with the other documents
finishing at the same moment (one directory fsync for all of them): when
``__aexit__`` returns the bytes and the name survive a power cut. A small
document therefore costs one hand-over to that thread in all.

Small documents take a shorter road (``spool.writer(copy=True)``, documents up to
``copy_max`` bytes, uncompressed, still all in memory when the block ends): no file is
written at all. The writer keeps the bytes in ``content``; the caller stores them in the
job store (``spool_copies``, compressed when that pays: ``_copies.py``) in the same
transaction as the job row, so the one fsync of that COMMIT makes the document durable.
Writing no file matters more than skipping its fsync: on ext4 (data=ordered) the next
journal commit, which any fsync triggers
(the database's own), writes out the data of every file created since, so an unsynced
small file made at intake costs nearly what an fsync'd one does (README, Figures).
The database is the document's home then: :meth:`Spool.open` streams it from the copy
(``Spool.copies``, set by the server) when there is no file, and :meth:`Spool.ensure_file`
writes the file (unsynced: the copy is the durable one) for the few readers that need a
path (the forwarder's conversions for a destination; the accounting pipeline analyses
a document it holds from its bytes). The copy goes when the job ends.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import os
import re
import stat
import time
from collections.abc import AsyncIterator
from pathlib import Path
from types import TracebackType
from typing import Protocol

from ippproxy.jobs._fsio import DirSync, FdWorker, new_pool, write_all
from ippproxy.jobs._inflate import (
    BATCH,
    COMPRESSIONS,
    Inflater,
    Sink,
    SpoolCompressionError,
    SpoolError,
    SpoolLimitExceeded,
)
from ippproxy.jobs._syncbatch import SyncBatcher, Ticket
from ippproxy.jobs.ids import random_hex, spool_name

__all__ = [
    "COMPRESSIONS",
    "Spool",
    "SpoolCompressionError",
    "SpoolError",
    "SpoolLimitExceeded",
    "SpoolWriter",
]

NAME_RE = re.compile(r"^[0-9a-f]{32}$")
_TMP_RE = re.compile(r"^\.[0-9a-f]{32}(\.[0-9a-f]{8})?\.tmp$")


class SpoolWriter:
    """One document being written. ``name``, ``size``, ``sha256`` are valid after exit."""

    def __init__(self, spool: Spool, compression: str, copy: bool = False) -> None:
        if compression not in COMPRESSIONS:
            raise SpoolCompressionError(f"unsupported compression {compression!r}")
        self._spool = spool
        self.compression = compression
        self.name = spool_name()
        self._tmp = os.path.join(spool.root_name, f".{self.name}.tmp")
        self._ticket: Ticket | None = None
        self._fd = -1
        self._sink: Sink | None = None
        self._inflater = Inflater(compression) if compression != "none" else None
        self._worker = FdWorker(spool.pool)
        self._pending: list[bytes] = []
        self._pending_len = 0
        self._received = 0
        self._renamed = False
        self._prepared = False
        self._copy = copy and compression == "none"
        self.size = 0
        self.sha256 = ""
        # The document's bytes when it took the short road (module docstring), else None.
        self.content: bytes | None = None

    async def write(self, chunk: bytes) -> None:
        if not chunk:
            return
        self._received += len(chunk)
        if self._inflater is None and self._received > self._spool.max_bytes:
            raise SpoolLimitExceeded(f"document is larger than {self._spool.max_bytes} bytes")
        self._pending.append(bytes(chunk))
        self._pending_len += len(chunk)
        if self._pending_len >= BATCH:
            await self._flush()

    def _take(self) -> bytes:
        data = b"".join(self._pending)
        self._pending.clear()
        self._pending_len = 0
        return data

    async def _flush(self) -> None:
        if self._pending:
            await self._worker.run(self._process, self._take())

    def _process(self, data: bytes) -> None:
        if self._sink is None:
            self._open()  # lazily: a small document costs one thread hop in all
        assert self._sink is not None
        if self._inflater is None:
            self._sink.put(data)
        else:
            self._inflater.feed(data, self._sink)

    def _open(self) -> None:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        self._fd = os.open(self._tmp, flags, 0o600)
        self._sink = Sink(self._fd, self._spool.max_bytes)

    # -- finishing, in the batch thread (syncbatch.Sealable) ----------------------
    def prepare(self) -> None:
        if self._prepared:
            return
        self._process(self._take())
        assert self._sink is not None
        if self._inflater is not None:
            self._inflater.finish(self._sink)
        self._prepared = True

    def _presync(self) -> None:
        self.prepare()
        os.fsync(self._fd)

    def flush(self) -> None:
        os.fsync(self._fd)

    def seal(self) -> None:
        assert self._sink is not None
        os.close(self._fd)
        self._fd = -1
        os.rename(self._tmp, os.path.join(self._spool.root_name, self.name))
        self._renamed = True
        self.size = self._sink.size
        self.sha256 = self._sink.sha.hexdigest()

    def directory_sync(self) -> None:
        self._spool.dirsync.sync()

    @property
    def directory_key(self) -> object:
        return self._spool.dirsync

    def _discard_now(self) -> None:
        if self._fd < 0 and self._sink is None:
            return  # we never created the temp file: nothing of ours to remove
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        try:
            os.unlink(os.path.join(self._spool.root_name, self.name) if self._renamed
                      else self._tmp)
        except FileNotFoundError:
            pass

    def _discard(self) -> None:
        if self._ticket is not None:
            self._ticket.after(self._discard_now)
        else:
            self._worker.after(self._discard_now)

    def _keep_in_memory(self) -> None:
        """The short road for a small document (module docstring): no file at all."""
        data = self._take()
        self.size = len(data)
        self.sha256 = hashlib.sha256(data).hexdigest()
        self.content = data

    async def _finish(self) -> None:
        if self._copy and self._sink is None and self._pending_len <= self._spool.copy_max:
            self._keep_in_memory()
            return
        if self._sink is not None:
            # A big document (it has been streaming): its long fsync runs in a pool thread
            # first, so that it does not hold up the small ones in the batch thread.
            await self._worker.run(self._presync)
        self._ticket = self._spool.batcher.submit(self)
        await self._ticket.future


class CopyStore(Protocol):
    """Where small documents live (the job store's ``spool_copies``)."""

    async def copy_of(self, spool_name: str) -> bytes | None: ...

    async def has_copy(self, spool_name: str) -> bool: ...


def _lstat(path: Path) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None


class _WriterContext:
    def __init__(self, writer: SpoolWriter) -> None:
        self.writer = writer

    async def __aenter__(self) -> SpoolWriter:
        return self.writer  # the file is created with the first batch (or at the end)

    async def __aexit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        if et is None:
            try:
                await self.writer._finish()
                return
            except BaseException:
                self.writer._discard()
                raise
        # Error or cancellation: no await here, so cleanup cannot itself be cancelled.
        self.writer._discard()


class Spool:
    """A directory of documents named by the server. ``max_bytes`` caps one document.

    ``pool`` runs the disk and zlib work of uploads and reads, ``batcher`` finishes documents
    durably (_syncbatch.py); each is made for this spool unless the caller passes one (several
    spools of a process may share them)."""

    def __init__(self, root: Path | str, max_bytes: int, copy_max: int = 0, *,
                 pool: concurrent.futures.Executor | None = None,
                 batcher: SyncBatcher | None = None) -> None:
        self.root = Path(root)
        self.pool = pool if pool is not None else new_pool()
        self.batcher = batcher if batcher is not None else SyncBatcher()
        self.root_name = str(self.root)
        self.max_bytes = max_bytes
        self.copy_max = copy_max  # see "small documents" in the module docstring
        # Where a document without a file is read from (the job store's spool_copies).
        self.copies: CopyStore | None = None
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        st = os.lstat(self.root)
        if not stat.S_ISDIR(st.st_mode):
            raise SpoolError(f"spool root {self.root} is not a directory")
        os.chmod(self.root, 0o700)
        self.dirsync = DirSync(self.root)

    def writer(self, compression: str | None = "none", *, copy: bool = False) -> _WriterContext:
        """``async with spool.writer("gzip") as w: await w.write(chunk)``.

        ``copy=True``: a small document may come back with ``w.content`` set and no file
        written; the caller must then commit ``content`` with the job (``NewDocument``
        carries it to the store), or the document is lost."""
        return _WriterContext(SpoolWriter(self, compression or "none", copy))

    def path(self, name: str) -> Path:
        if not NAME_RE.match(name):
            raise SpoolError(f"not a spool file name: {name!r}")
        return self.root / name

    def _open_read(self, name: str) -> int:
        return os.open(self.path(name), os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)

    async def _copy(self, name: str) -> bytes | None:
        self.path(name)  # the name is checked as for a file
        return None if self.copies is None else await self.copies.copy_of(name)

    async def has(self, name: str) -> bool:
        """The document is here: a regular file, or a copy in the job store."""
        st = await asyncio.to_thread(_lstat, self.path(name))
        if st is not None and stat.S_ISREG(st.st_mode):
            return True
        return self.copies is not None and await self.copies.has_copy(name)

    async def ensure_file(self, name: str) -> Path:
        """The document's path, after writing the file from its copy if there is none
        (for readers that need a path). The file is not fsync'd: the copy is durable."""
        path = self.path(name)
        if await asyncio.to_thread(_lstat, path) is None:
            data = await self._copy(name)
            if data is not None:
                await asyncio.to_thread(self.write_unsynced, name, data)
        return path

    def write_unsynced(self, name: str, data: bytes) -> None:
        """Write a document that is durable elsewhere (its copy); blocking. Written to a
        temp name and renamed, so a reader never sees half of it."""
        tmp = self.root / f".{name}.{random_hex(4)}.tmp"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        fd = os.open(tmp, flags, 0o600)
        try:
            write_all(fd, data)
        finally:
            os.close(fd)
        os.rename(tmp, self.path(name))

    async def open(self, name: str, chunk_size: int = BATCH) -> AsyncIterator[bytes]:
        """Stream a document back, ``chunk_size`` bytes at a time, off the event loop
        (from its copy when it has no file: a small document, at most ``copy_max``)."""
        worker = FdWorker(self.pool)
        try:
            fd = await worker.run(self._open_read, name)
        except FileNotFoundError:
            data = await self._copy(name)
            if data is None:
                raise
            for i in range(0, len(data), chunk_size):
                yield data[i:i + chunk_size]
            return
        try:
            while chunk := await worker.run(os.read, fd, chunk_size):
                yield chunk
        finally:
            worker.after(lambda: os.close(fd))

    def digest(self, name: str) -> tuple[int, str]:
        """(size, sha256 hex) of a stored document; blocking, run it in a thread."""
        fd = self._open_read(name)
        try:
            sha = hashlib.sha256()
            size = 0
            while chunk := os.read(fd, BATCH):
                sha.update(chunk)
                size += len(chunk)
            return size, sha.hexdigest()
        finally:
            os.close(fd)

    def delete(self, name: str) -> bool:
        """Remove a document (a symlink is removed, never followed). False if absent."""
        try:
            os.unlink(self.path(name))
            return True
        except FileNotFoundError:
            return False

    def names(self) -> set[str]:
        """Every finished document name in the spool."""
        return {n for n in os.listdir(self.root) if NAME_RE.match(n)}

    def remove_temporaries(self, min_age: float = 0.0) -> int:
        """Delete the ``.*.tmp`` files a crash left mid-write (call before accepting jobs);
        blocking. ``min_age`` > 0 keeps those modified less than that many seconds ago:
        another node sharing the spool may be writing them right now."""
        limit = time.time() - min_age
        count = 0
        for n in os.listdir(self.root):
            if not _TMP_RE.match(n):
                continue
            try:
                if min_age > 0 and os.lstat(self.root / n).st_mtime >= limit:
                    continue
                os.unlink(self.root / n)
                count += 1
            except FileNotFoundError:
                pass
        return count
