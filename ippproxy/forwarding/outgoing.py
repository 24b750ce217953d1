"""The documents a job is sent with: the spooled ones, or their conversion (formats.py).

Theory of operation
-------------------
``prepare(outbox, store, wakeups, client, rec, job)`` is called by the Forwarder before
anything is sent:

1. The job's format is the one stored at intake (the detected one when the
   pipeline runs). When it is unknown (``application/octet-stream``, none), it is
   detected from the first bytes of the spooled document (filters.detect).
2. ``formats.plan`` decides, from the destination's printer attributes and the
   job's ``print-color-mode``: as is (the spooled documents, unchanged), a
   conversion, or impossible (:class:`Unconvertible`, the job is aborted with
   ``unsupported-document-format`` and the plan's reason).
3. A conversion runs each step in an ``AnalysisPool`` worker (off the event loop;
   gs with -dSAFER; CPU, memory and wall-clock limits; a bounded queue) from the
   spool file into a directory of its own (a server-generated name, uuid4 hex)
   in this node's scratch directory ``<spool>/outgoing[/<node>]``. Intermediate
   files are removed at once, and the whole directory on failure or cancellation
   (with whatever a killed worker left in it). The original document is never changed. A failed step is
   :class:`Unconvertible` (``document-unprintable-error`` and the worker's
   reason); a full queue is :class:`ConversionBusy` (retry later).
4. ``discard(out)`` deletes the converted files as soon as the upload ended,
   whatever its outcome (a retry converts again), and ``start()`` empties the
   scratch directory left by a crash. Files outside the spool root's own names
   are never seen by recovery or purge, so nothing there outlives its upload.

No pool is given when accounting is off: one is made from ``[analysis]`` the
first time a job needs a conversion, and closed with the Forwarder.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ippproxy.config import AnalysisConfig
from ippproxy.filters import detect
from ippproxy.filters.errors import AnalysisError, PoolFull
from ippproxy.filters.pool import AnalysisPool
from ippproxy.ipp import Attribute, Group
from ippproxy.jobs.records import JobRecord
from ippproxy.jobs.spool import Spool
from ippproxy.jobs.store import JobStore

from .client import DestinationClient, ForwardJob
from .formats import FormatSupport, Plan, plan, wants_colour
from .page_overrides import with_gray_pages
from .source import Document, FileDocument, SpoolDocument
from .wakeups import JobWakeups

UNKNOWN = (None, "", detect.OCTET_STREAM)
WATCH_INTERVAL = 5.0   # seconds between looks at a job being converted (besides wake-ups)


class Unconvertible(Exception):
    """The job cannot be printed on this destination: abort it with ``message``."""

    def __init__(self, message: str, *reasons: str) -> None:
        super().__init__(message)
        self.message = message
        self.reasons = ("aborted-by-system", *reasons)


class ConversionBusy(Exception):
    """The conversion queue is full: try again later."""


class JobEnded(Exception):
    """The job was canceled (or ended otherwise) while its document was converted."""


@dataclass(frozen=True)
class Outgoing:
    """What to upload: ``documents`` as ``document_format``; ``files`` to discard after."""

    documents: tuple[Document, ...]
    document_format: str
    plan: Plan
    files: tuple[Path, ...] = ()

    @property
    def note(self) -> str:
        """For job-state-message: what was done to the document ("" when sent as is)."""
        return f"converted {self.plan.note}" if self.plan.converts else ""


def print_color_mode(attributes: Sequence[Attribute]) -> str | None:
    mode = next((a for a in attributes if a.name == "print-color-mode"), None)
    return mode.value if mode is not None and isinstance(mode.value, str) else None


class Outbox:
    def __init__(self, spool: Spool, analysis: AnalysisConfig, *, node: str | None = None,
                 pool: AnalysisPool | None = None) -> None:
        self.spool = spool
        self.analysis = analysis
        self.scratch = spool.root / "outgoing"
        if node:  # a spool shared by nodes: start() must not touch the others' files
            self.scratch /= re.sub(r"[^A-Za-z0-9_.-]", "_", node).lstrip(".") or "_"
        self._pool = pool
        self._own_pool: AnalysisPool | None = None
        self._pool_lock = asyncio.Lock()
        self.notes: dict[str, str] = {}   # job uuid -> what was done, while it is forwarded

    async def start(self) -> None:
        """Empty the scratch directory (conversions a crash interrupted)."""
        def clean() -> None:
            shutil.rmtree(self.scratch, ignore_errors=True)
            self.scratch.mkdir(mode=0o700, parents=True, exist_ok=True)
        await asyncio.to_thread(clean)

    async def close(self) -> None:
        if self._own_pool is not None:
            await self._own_pool.close()
            self._own_pool = None

    async def pool(self) -> AnalysisPool:
        if self._pool is not None:
            return self._pool
        async with self._pool_lock:
            if self._own_pool is None:
                a = self.analysis
                pool = AnalysisPool(a.workers, queue_size=a.queue_size,
                                    cpu_seconds=a.cpu_seconds, memory_bytes=a.memory_mb << 20,
                                    wall_seconds=a.wall_seconds, user=a.user)
                await pool.start()
                self._own_pool = pool
            return self._own_pool

    # -- one job -----------------------------------------------------------------------------

    async def source_format(self, rec: JobRecord) -> str:
        """The job's document format; detected from the spooled bytes when unknown."""
        fmt = rec.document_format or next((d.format for d in rec.documents if d.format), None)
        if fmt not in UNKNOWN:
            assert fmt is not None
            return detect.normalise(fmt)
        if not rec.documents:
            return detect.OCTET_STREAM
        try:
            path = await self.spool.ensure_file(rec.documents[0].spool_name)
            head = await asyncio.to_thread(_head, path)
            return detect.detect_format(head)
        except (AnalysisError, OSError):
            return detect.OCTET_STREAM

    async def plan(self, rec: JobRecord, printer: Group,
                   attributes: Sequence[Attribute]) -> Plan:
        """How to send ``rec`` to a destination with attributes ``printer``."""
        chosen = plan(await self.source_format(rec), FormatSupport.from_printer(printer),
                      wants_colour(print_color_mode(attributes)))
        if chosen.send_as is None:
            raise Unconvertible(f"cannot print this document here: {chosen.note}",
                                "unsupported-document-format")
        return with_gray_pages(chosen, attributes, printer)

    def as_is(self, rec: JobRecord, chosen: Plan) -> Outgoing:
        assert chosen.send_as is not None and not chosen.converts
        docs = tuple(SpoolDocument(self.spool, d.spool_name, d.size) for d in rec.documents)
        return Outgoing(docs, chosen.send_as, chosen)

    async def convert(self, rec: JobRecord, chosen: Plan) -> Outgoing:
        """Run ``chosen``'s steps on each document; raises Unconvertible or ConversionBusy."""
        assert chosen.send_as is not None
        files: list[Path] = []
        try:
            for d in rec.documents:
                src = await self.spool.ensure_file(d.spool_name)  # gs needs a path
                files.append(await self._convert(chosen, src))
        except BaseException:
            _remove(files)
            raise
        docs = tuple(FileDocument(f) for f in files)
        return Outgoing(docs, chosen.send_as, chosen, tuple(files))

    async def _convert(self, chosen: Plan, src: Path) -> Path:
        """Run the steps in a fresh directory (uuid4 hex) of the scratch directory; on any
        failure the directory goes, with what a killed worker left (gs's partial files)."""
        pool = await self.pool()
        work = self.scratch / uuid.uuid4().hex
        await asyncio.to_thread(work.mkdir, 0o700)
        try:
            for i, step in enumerate(chosen.steps):
                dst = work / f"{i}.{step.output.rsplit('/', 1)[-1]}"
                await pool.convert(step.kind, src, dst, **step.kwargs)
                if src.parent == work:  # an intermediate file
                    await asyncio.to_thread(_unlink, [src])
                src = dst
        except BaseException as exc:
            shutil.rmtree(work, ignore_errors=True)  # no await: must not be cancelled
            if isinstance(exc, PoolFull):
                raise ConversionBusy(exc.reason) from None
            if isinstance(exc, AnalysisError):
                raise Unconvertible(f"conversion of the document ({chosen.note}) failed: "
                                    f"{exc.reason}", "document-unprintable-error") from None
            raise
        return src

    async def discard(self, out: Outgoing) -> None:
        """Delete the converted files (each in its own scratch directory)."""
        if out.files:
            await asyncio.to_thread(_remove, out.files)


def _head(path: Path) -> bytes:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        return os.read(fd, detect.HEAD_BYTES)
    finally:
        os.close(fd)


def _unlink(paths: Sequence[Path]) -> None:
    for p in paths:
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


async def prepare(outbox: Outbox, store: JobStore, wakeups: JobWakeups,
                  client: DestinationClient, rec: JobRecord, job: ForwardJob) -> Outgoing:
    """The documents to send ``rec`` with, converted for the destination if it needs it.

    While converting the job shows ``job-transforming`` (RFC 8011 §5.3.8) and a
    message; a Cancel-Job meanwhile stops the conversion (its worker is killed)
    and raises :class:`JobEnded`."""
    chosen = await outbox.plan(rec, await client.get_printer_attributes(), job.attributes)
    if not chosen.converts:
        return outbox.as_is(rec, chosen)
    await store.set_reasons(rec.uuid, ("job-transforming",),
                            f"converting the document for the printer: {chosen.note}")
    task = asyncio.create_task(outbox.convert(rec, chosen))
    try:
        while not task.done():
            waiter = asyncio.create_task(wakeups.wait(rec.uuid, WATCH_INTERVAL))
            await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
            waiter.cancel()
            if task.done():
                break
            current = await store.get_by_uuid(rec.uuid)
            if current is None or current.is_terminal:
                raise JobEnded()
        out = task.result()
    finally:
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    outbox.notes[rec.uuid] = out.note
    return out


def _remove(files: Sequence[Path]) -> None:
    for f in files:
        shutil.rmtree(f.parent, ignore_errors=True)
