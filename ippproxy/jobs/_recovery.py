"""Crash recovery: on start, every acknowledged job gets a defined state.

Theory of operation
-------------------
A job answered ``successful-ok`` has a committed row and fsync'd documents (see
``spool.py`` and ``_writer.py``). After ``kill -9`` or a power cut :func:`recover`
runs once, before the server accepts requests, and walks every job that is not
in a terminal state:

* a row that cannot be read (bad JSON, unknown state) is aborted on its own with a
  ``job-state-message`` saying so; the other jobs are not affected;
* a small document lives in the job store (``spool_copies``, see ``spool.py``) and
  has no file, or one written without fsync for a reader that needed a path: a file a
  crash cut short is removed (it is made again from the copy when needed), and the job
  goes on as if nothing happened;
* any other job whose document file is missing, is not a regular file, or whose size or
  sha256 no longer matches the row is aborted (``aborted-by-system``,
  ``document-access-error``) with a message naming the document: never silently
  dropped, never printed with the wrong bytes;
* ``processing`` / ``processing-stopped`` jobs were being forwarded: they go back
  to ``pending`` (REQUEUE). ``forward_started`` is kept, so the forwarder first asks
  the destination whether it already has the job before sending it again;
* jobs not closed (Create-Job without the last document) stay as they are until
  :meth:`JobStore.abort_incomplete` times them out; pending and held jobs stay too.

Spool hygiene: temp files of interrupted uploads are removed, and finished files
that no document row references (written, but the job was never acknowledged)
are deleted (``remove_orphans=False`` keeps them).

Several nodes, one database and one spool: the store's ``node`` is set, and jobs
leased by another live node are left alone (also when that node claimed the job
between the scan and the requeue). Another node may be uploading (a temp file) or
deciding on a spooled document (no row yet) right now, so ``min_age`` (seconds)
keeps temp and orphan files modified more recently than that.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import logging
import os
import stat
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from functools import partial
from typing import Protocol, TypeVar

from sqlalchemy import Connection, or_, select, update

from ippproxy.jobs._copies import CopyDamaged, unpack
from ippproxy.jobs.models import documents_t, jobs_t, spool_copies_t
from ippproxy.jobs.records import JobRecord, load_job
from ippproxy.jobs.spool import Spool, SpoolError
from ippproxy.jobs.state import TERMINAL, JobEvent, JobState
from ippproxy.jobs.writes import _locked, apply_event

T = TypeVar("T")
log = logging.getLogger(__name__)
REQUEUE_MESSAGE = "requeued after a restart while it was being forwarded"
# Jobs whose copies are read (and their sha256 checked) at a time.
COPY_CHUNK = 64


class RecoveryStore(Protocol):
    """What recovery needs of the job store (``JobStore`` is one; it calls :func:`recover`
    from ``JobStore.recover``, so this module does not import the store)."""

    @property
    def node(self) -> str | None: ...

    @property
    def clock(self) -> Callable[[], dt.datetime]: ...

    async def read(self, fn: Callable[[Connection], T]) -> T: ...

    async def write(self, op: Callable[[Connection], T]) -> T: ...


@dataclass(frozen=True)
class _Scan:
    jobs: list[JobRecord]
    unreadable: list[tuple[str, str]]  # (uuid, error)
    referenced: set[str]


def _scan(conn: Connection, node: str | None, now: dt.datetime) -> _Scan:
    j = jobs_t.c
    stmt = select(j.uuid).where(j.state.not_in([int(s) for s in TERMINAL]))
    if node is not None:
        stmt = stmt.where(or_(j.node.is_(None), j.node == node, j.lease_until < now))
    jobs: list[JobRecord] = []
    bad: list[tuple[str, str]] = []
    for uuid in conn.execute(stmt).scalars().all():
        try:
            rec = load_job(conn, uuid)
            if rec is not None:
                jobs.append(rec)
        except Exception as e:  # noqa: BLE001 - one corrupt row must not stop the rest
            bad.append((uuid, f"{type(e).__name__}: {e}"))
    referenced = set(conn.execute(select(documents_t.c.spool_name)).scalars().all())
    return _Scan(jobs, bad, referenced)


def _check_documents(spool: Spool, rec: JobRecord, verify: bool) -> str | None:
    """None if every document is intact, else a message for job-state-message."""
    for d in rec.documents:
        label = f"document {d.number} (spool file {d.spool_name})"
        try:
            st = os.lstat(spool.path(d.spool_name))
            if not stat.S_ISREG(st.st_mode):
                return f"{label} is not a regular file"
            if st.st_size != d.size:
                return f"{label} has {st.st_size} bytes, expected {d.size}"
            if verify:
                _, digest = spool.digest(d.spool_name)
                if digest != d.sha256:
                    return f"{label} is corrupt: sha256 {digest} != {d.sha256}"
        except FileNotFoundError:
            return f"{label} is missing from the spool"
        except (OSError, SpoolError) as e:  # SpoolError: a bad name in the row
            return f"{label} cannot be read: {e}"
    return None


def _copies(conn: Connection, names: list[str]) -> dict[str, bytes]:
    c = spool_copies_t.c
    out: dict[str, bytes] = {}
    for i in range(0, len(names), 500):
        rows = conn.execute(select(c.spool_name, c.content, c.encoding)
                            .where(c.spool_name.in_(names[i:i + 500])))
        for name, content, encoding in rows:
            with contextlib.suppress(CopyDamaged):   # no copy, then
                out[name] = unpack(content, encoding)
    return out


def _fall_back_to_copies(spool: Spool, damaged: list[JobRecord], copies: dict[str, bytes],
                         verify: bool) -> set[str]:
    """For each damaged document with an intact copy, remove its file (if any): the
    copy is the document (blocking). Returns the uuids of the jobs whose documents are
    then all intact, in a file or in a copy."""
    fixed: set[str] = set()
    for rec in damaged:
        ok = True
        for d in rec.documents:
            intact = _check_documents(spool, replace(rec, documents=(d,)), verify) is None
            if intact:
                continue
            data = copies.get(d.spool_name)
            if data is None or len(data) != d.size or hashlib.sha256(data).hexdigest() != d.sha256:
                ok = False  # no copy (a big document), or a copy that does not match the row
                continue
            try:
                # A file cut short (written without fsync), or none at all (the usual
                # case): the copy is the document either way.
                if spool.delete(d.spool_name):
                    log.warning("job %s (%s-%d): unsynced spool file %s was damaged; the "
                                "document is read from its copy in the job store",
                                rec.uuid, rec.queue, rec.job_id, d.spool_name)
            except (OSError, SpoolError) as e:
                log.error("job %s: cannot remove damaged %s: %s", rec.uuid, d.spool_name, e)
                ok = False
        if ok:
            fixed.add(rec.uuid)
    return fixed


def _abort_unreadable(conn: Connection, *, uuid: str, error: str, now: dt.datetime) -> None:
    # The row cannot be parsed, so the state table cannot be consulted: write the
    # terminal state directly. Only this row is touched.
    conn.execute(
        update(jobs_t)
        .where(jobs_t.c.uuid == uuid)
        .values(
            state=int(JobState.ABORTED),
            state_reasons=["aborted-by-system"],
            state_message=f"job record was unreadable at recovery ({error})"[:1000],
            completed_at=now,
            updated_at=now,
            node=None,
            lease_until=None,
        )
    )


def _abort_damaged(conn: Connection, *, uuid: str, message: str, now: dt.datetime) -> JobRecord:
    rec = _locked(conn, uuid)
    return apply_event(
        conn, rec, JobEvent.ABORT, ("aborted-by-system", "document-access-error"), message, now
    )


def _requeue(
    conn: Connection, *, uuid: str, now: dt.datetime, node: str | None = None
) -> JobRecord | None:
    rec = _locked(conn, uuid)
    if rec.state not in (JobState.PROCESSING, JobState.PROCESSING_STOPPED):
        return None  # changed since the scan
    if node is not None and rec.node not in (None, node) and not (
        rec.lease_until is not None and rec.lease_until < now
    ):
        return None  # claimed by another live node since the scan
    return apply_event(conn, rec, JobEvent.REQUEUE, None, REQUEUE_MESSAGE, now)


def _stale(spool: Spool, names: Iterable[str], min_age: float) -> list[str]:
    """The names (in the spool root) not modified for ``min_age`` seconds."""
    limit = time.time() - min_age
    out = []
    for name in names:
        try:
            if os.lstat(spool.root / name).st_mtime < limit:
                out.append(name)
        except FileNotFoundError:
            pass
    return out


async def recover(
    store: RecoveryStore,
    spool: Spool,
    *,
    verify: bool = True,
    remove_orphans: bool = True,
    min_age: float = 0.0,
) -> list[JobRecord]:
    """Recover after a restart; returns the jobs it changed (requeued or aborted).

    Call it before the server accepts jobs: an upload in progress has a temp file, and
    a document spooled but not yet committed looks like an orphan. With other nodes
    on the same spool, pass ``min_age`` (see the module docstring)."""
    removed = await asyncio.to_thread(spool.remove_temporaries, min_age)
    # Listed BEFORE the rows are read: a file whose row commits in between is kept.
    on_disk = await asyncio.to_thread(spool.names) if remove_orphans else set()
    now = store.clock()
    scan = await store.read(lambda c: _scan(c, store.node, now))
    problems = await asyncio.to_thread(
        lambda: {r.uuid: m for r in scan.jobs if (m := _check_documents(spool, r, verify))}
    )
    damaged = [r for r in scan.jobs if r.uuid in problems]
    for i in range(0, len(damaged), COPY_CHUNK):  # bounded memory: copies are up to 1 MiB
        part = damaged[i:i + COPY_CHUNK]
        names = [d.spool_name for r in part for d in r.documents]
        copies = await store.read(partial(_copies, names=names))
        for uuid in await asyncio.to_thread(_fall_back_to_copies, spool, part, copies, verify):
            del problems[uuid]
    for uuid, error in scan.unreadable:
        log.error("job %s: unreadable row, aborting it: %s", uuid, error)
    writes: list[Awaitable[JobRecord | None]] = [
        store.write(partial(_abort_unreadable, uuid=u, error=e, now=now))
        for u, e in scan.unreadable
    ]
    for rec in scan.jobs:
        if rec.uuid in problems:
            log.error("job %s (%s-%d): %s", rec.uuid, rec.queue, rec.job_id, problems[rec.uuid])
            writes.append(
                store.write(
                    partial(_abort_damaged, uuid=rec.uuid, message=problems[rec.uuid], now=now)
                )
            )
        elif rec.state in (JobState.PROCESSING, JobState.PROCESSING_STOPPED):
            writes.append(store.write(partial(_requeue, uuid=rec.uuid, now=now, node=store.node)))
    # Submitted together, so they share a few group commits; each in its own savepoint.
    changed: list[JobRecord] = []
    for result in await asyncio.gather(*writes, return_exceptions=True):
        if isinstance(result, BaseException):
            log.error("recovery of a job failed: %r", result)
        elif result is not None:
            changed.append(result)
    orphans = sorted(on_disk - scan.referenced)
    if min_age > 0:
        orphans = await asyncio.to_thread(_stale, spool, orphans, min_age)
    for name in orphans:
        await asyncio.to_thread(spool.delete, name)
    log.info(
        "recovery: %d jobs checked, %d changed, %d unreadable, %d temp and %d orphan files removed",
        len(scan.jobs),
        len(changed),
        len(scan.unreadable),
        removed,
        len(orphans),
    )
    return changed
