"""Forced conversions at intake (force grayscale, PostScript duplex), in the pool.

A conversion runs in an ``AnalysisPool`` worker (``filters.convert``, gs with -dSAFER)
into a scratch directory beside the spool, then streams into the spool through its
writer, which names, hashes and fsyncs the file like any received document. The intake
pipeline stores the new document instead of the received one. A source held in memory
(a small document not yet committed with its job) is written, unsynced, to the scratch
directory for the converter and removed after it: the spool gets no file for it. Scratch
files left by a crash are removed at start.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import uuid
from pathlib import Path

from ippproxy.filters import detect
from ippproxy.filters.pool import AnalysisPool
from ippproxy.jobs.records import NewDocument
from ippproxy.jobs.spool import Spool

GRAYSCALE_INPUTS = frozenset({detect.PDF, detect.PCLM, detect.POSTSCRIPT})
CHUNK = 1 << 20


class Converter:
    def __init__(self, pool: AnalysisPool, spool: Spool, node: str = "") -> None:
        self.pool = pool
        self.spool = spool
        self.scratch = spool.root / "convert"
        if node:  # a spool shared by nodes: clean() must not touch the others' scratch
            self.scratch /= re.sub(r"[^A-Za-z0-9_.-]", "_", node).lstrip(".") or "_"

    def clean(self) -> None:
        """Remove scratch files of conversions a crash interrupted (blocking)."""
        shutil.rmtree(self.scratch, ignore_errors=True)
        self.scratch.mkdir(mode=0o700, parents=True, exist_ok=True)

    async def grayscale(self, src: Path | bytes, name: str | None) -> NewDocument:
        """A gray-only PDF of a PDF or PostScript document (verified colour-free)."""
        return await self._run("grayscale-pdf", src, detect.PDF, name)

    async def ps_duplex(self, src: Path | bytes, name: str | None) -> NewDocument:
        """The PostScript job with a Duplex page-device request in its setup."""
        return await self._run("ps-duplex", src, detect.POSTSCRIPT, name)

    async def _run(self, kind: str, src: Path | bytes, fmt: str,
                   name: str | None) -> NewDocument:
        stem = self.scratch / uuid.uuid4().hex
        dst, held = stem.with_suffix(".out"), stem.with_suffix(".in")
        try:
            if isinstance(src, bytes):
                await asyncio.to_thread(_write_private, held, src)
                src = held
            await self.pool.convert(kind, src, dst)
            return await self._into_spool(dst, fmt, name)
        finally:
            for scratch in (dst, held):
                with contextlib.suppress(FileNotFoundError):
                    scratch.unlink()

    async def _into_spool(self, path: Path, fmt: str, name: str | None) -> NewDocument:
        f = await asyncio.to_thread(path.open, "rb")
        try:
            async with self.spool.writer() as w:
                while chunk := await asyncio.to_thread(f.read, CHUNK):
                    await w.write(chunk)
        finally:
            f.close()
        return NewDocument(spool_name=w.name, size=w.size, sha256=w.sha256, format=fmt,
                           name=name)


def _write_private(path: Path, data: bytes) -> None:
    """A new scratch file (mode 0600, never through a symlink); blocking."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
