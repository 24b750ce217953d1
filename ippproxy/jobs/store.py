"""The job store: an async facade over SQLAlchemy Core.

Writes go through one :class:`~ippproxy.jobs._writer.GroupCommitWriter` thread
(group commit: concurrent calls share one transaction and one fsync, and each
returns only after that commit). Reads run in a small thread pool on their own
connections (``BEGIN DEFERRED`` on SQLite: WAL readers see the last commit and
never wait for the writer). SQL is portable Core: the same code runs on SQLite
and PostgreSQL, also with several processes on one PostgreSQL (job-id allocation
is ``UPDATE queues ... RETURNING``, claims use ``FOR UPDATE SKIP LOCKED``).

State changes go through the table in :mod:`ippproxy.jobs.state`;
crash recovery is in :mod:`ippproxy.jobs._recovery`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Any, Self, TypeVar

from sqlalchemy import Connection, Engine, select

from ippproxy.db.base import utcnow
from ippproxy.db.engine import reading
from ippproxy.db.walsync import WalSync
from ippproxy.jobs import moving, queries, writes
from ippproxy.jobs._create import NewJob, ReadAhead, counted, insert_staged, stage
from ippproxy.jobs._recovery import recover
from ippproxy.jobs._writer import GroupCommitWriter, WriterStats
from ippproxy.jobs.ids import new_uuid
from ippproxy.jobs.models import documents_t, jobs_t
from ippproxy.jobs.queries import Which
from ippproxy.jobs.records import (
    UNSET,
    DocumentHold,
    JobRecord,
    NewDocument,
    QueueStateRecord,
    _Unset,
    load_job,
    load_jobs,
)
from ippproxy.jobs.reports import JobReports
from ippproxy.jobs.search import JobQuery, count_stmt, search_stmt
from ippproxy.jobs.spool import Spool
from ippproxy.jobs.state import JobEvent, JobState
from ippproxy.jobs.subscriptions import SubscriptionStore
from ippproxy.jobs.writes import Purged

T = TypeVar("T")
Clock = Callable[[], dt.datetime]



class JobStore:
    """``async with JobStore(engine) as store: ...`` (or call :meth:`close`)."""

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Clock = utcnow,
        node: str | None = None,
        readers: int = 4,
        max_batch: int = 512,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.node = node
        self._writer = GroupCommitWriter(engine, max_batch=max_batch,
                                         wal_sync=WalSync.for_engine(engine))
        self._readers = concurrent.futures.ThreadPoolExecutor(
            max_workers=readers, thread_name_prefix="jobstore-read"
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self._writer.close()
        self._readers.shutdown(wait=False)

    def stats(self) -> WriterStats:
        """The writer's batches, ops and syncs so far, and their seconds."""
        return self._writer.stats()

    # -- plumbing -------------------------------------------------------------------

    async def write(self, op: Callable[[Connection], T], *, synced: bool = True) -> T:
        """Run ``op(conn)`` in the writer thread; returns after its COMMIT is durable
        (``synced=False``: once committed; durable with the caller's next write,
        _writer.py)."""
        return await self._writer.submit(op, synced=synced)

    async def read(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn(conn)`` in a reader thread, reading only (db.engine.reading)."""

        def run() -> T:
            with reading(self.engine) as conn:
                return fn(conn)

        return await asyncio.get_running_loop().run_in_executor(self._readers, run)

    @property
    def reports(self) -> JobReports:
        """The admin side's reads: job pages, recent changes, report sums (reports.py)."""
        return JobReports(self.read)

    @property
    def subscriptions(self) -> SubscriptionStore:
        """IPP event subscriptions and their events, shared by every node (subscriptions.py)."""
        return SubscriptionStore(self.write, self.read, self.clock)

    async def copy_of(self, spool_name: str) -> bytes | None:
        """The bytes of a small document kept in the store (``Spool.copies``), or None."""
        return await self.read(lambda c: queries.copy_of(c, spool_name))

    async def has_copy(self, spool_name: str) -> bool:
        return await self.read(lambda c: queries.has_copy(c, spool_name))

    # -- creation -------------------------------------------------------------------

    async def create_job(
        self,
        queue: str,
        *,
        owner: str,
        name: str | None = None,
        attributes: bytes = b"",
        document_format: str | None = None,
        hold_until: str | None = None,
        hold_until_time: dt.datetime | None = None,
        priority: int = 50,
        originating_host: str | None = None,
        destination_uri: str | None = None,
        documents: Sequence[NewDocument] = (),
        closed: bool = True,
        reasons: Sequence[str] | None = None,
        message: str | None = None,
        analysis: dict[str, Any] | None = None,
        uuid: str | None = None,
        peer_address: str | None = None,
        before: Callable[[Connection], object] | None = None,
        before_key: str = "",
        read_ahead: ReadAhead | None = None,
    ) -> JobRecord:
        """Store a new job (and its spooled documents), allocating its per-queue job-id.

        The job is ``pending-held`` when ``hold_until`` is set (anything but
        ``"no-hold"``), else ``pending``. Returns once the row is committed. ``before``:
        another write made first in the same transaction (intake's reservation); if it
        raises, the job is not stored and this raises its error. ``before_key``: the row
        ``before`` locks; a batch runs them in this order (_create.py). ``read_ahead``:
        reads, at once, what the batch's ``before`` writes given the same function would
        each read alone (_create.py).
        """
        spec = NewJob(
            uuid=uuid or new_uuid(),
            queue=queue,
            owner=owner,
            name=name,
            attributes=attributes,
            document_format=document_format,
            hold_until=None if hold_until == "no-hold" else hold_until,
            hold_until_time=hold_until_time,
            priority=priority,
            originating_host=originating_host,
            destination_uri=destination_uri,
            documents=tuple(documents),
            closed=closed,
            reasons=tuple(reasons) if reasons is not None else None,
            message=message,
            analysis=analysis,
            peer_address=peer_address,
        )
        staged = stage(self.engine.dialect, spec, self.clock(), before, before_key, read_ahead)
        job_id: int = await self._writer.submit_many(insert_staged, staged)
        return staged.record(job_id)

    async def add_document(
        self, uuid: str, doc: NewDocument | None, *, last: bool = False,
        hold: DocumentHold | None = None,
    ) -> JobRecord:
        """Send-Document: append ``doc`` (may be None with ``last``); ``last`` closes the job;
        ``hold`` holds it if it is pending, in the same write (records.DocumentHold)."""
        return await self.write(
            lambda c: writes.add_document(c, uuid, doc, last, self.clock(), hold))

    async def close_job(self, uuid: str) -> JobRecord:
        """Close-Job (PWG 5100.18): no more documents will come."""
        return await self.add_document(uuid, None, last=True)

    # -- reads ----------------------------------------------------------------------

    async def get(self, queue: str, job_id: int) -> JobRecord | None:
        return await self.read(lambda c: queries.get_job(c, queue, job_id))

    async def queues_with_job_id(self, job_id: int, among: Sequence[str]) -> list[str]:
        """Which of the queues ``among`` have a job of this job-id, sorted (``/jobs/ID``
        job URIs name no queue)."""
        return await self.read(lambda c: queries.queues_with_job_id(c, job_id, among))

    async def get_by_uuid(self, uuid: str) -> JobRecord | None:
        return await self.read(lambda c: load_job(c, uuid))

    async def states_of(self, uuids: Sequence[str]) -> dict[str, JobState]:
        """The state of each of these jobs still in the store, in one statement (the
        settlement sweep checks a page of reservations at a time)."""
        return await self.read(lambda c: queries.states_of(c, uuids))

    async def list_jobs(
        self,
        queue: str | None,
        which: Which = "not-completed",
        owner: str | None = None,
        limit: int | None = None,
    ) -> list[JobRecord]:
        """Get-Jobs (RFC 8011 §4.2.6): ``queue`` None means every queue. Not-completed
        jobs come in the order they will be processed (processing, then pending by
        priority and age, then held); completed ones newest first; ``all`` gives the
        not-completed ones first. ``owner`` (canonical user name) is for my-jobs."""
        stmt = queries.list_jobs_stmt(queue, which, owner, limit)
        return await self.read(lambda c: load_jobs(c, list(c.execute(stmt).mappings())))

    async def count_jobs(self, queue: str | None, which: Which = "not-completed") -> int:
        stmt = queries.count_stmt(queue, which)
        return await self.read(lambda c: int(c.execute(stmt).scalar_one()))

    async def count_owned_jobs(self, owner: str, not_held_for: str | None = None) -> int:
        """How many of ``owner``'s jobs are not yet completed, on every queue (those held
        for the reason ``not_held_for`` left out)."""
        stmt = queries.owned_count_stmt(owner, not_held_for)
        return await self.read(lambda c: int(c.execute(stmt).scalar_one()))

    async def count_held_from(self, reason: str, address: str) -> int:
        """How many jobs from the network ``address`` are held for ``reason``."""
        stmt = queries.held_from_count_stmt(reason, address)
        return await self.read(lambda c: int(c.execute(stmt).scalar_one()))

    async def count_active_jobs(self) -> int:
        """How many jobs are not yet completed, whoever owns them, on every queue."""
        stmt = queries.active_count_stmt()
        return await self.read(lambda c: int(c.execute(stmt).scalar_one()))

    async def search_jobs(self, query: JobQuery) -> tuple[list[JobRecord], int]:
        """The admin's job list (``search``): one page of every state, and the total."""
        stmt, total = search_stmt(query), count_stmt(query)

        def run(c: Connection) -> tuple[list[JobRecord], int]:
            return (load_jobs(c, list(c.execute(stmt).mappings())),
                    int(c.execute(total).scalar_one()))
        return await self.read(run)

    async def next_attempt_time(self) -> dt.datetime | None:
        """Earliest ``next_attempt_at`` of a pending job of a queue that is not paused
        (when the forwarder should wake)."""
        return await self.read(lambda c: c.execute(queries.NEXT_ATTEMPT).scalar_one_or_none())

    # -- changes --------------------------------------------------------------------

    async def transition(
        self,
        uuid: str,
        event: JobEvent,
        *,
        reasons: Sequence[str] | None = None,
        message: str | None = None,
        hold_until: str | None | _Unset = UNSET,
        hold_until_time: dt.datetime | None | _Unset = UNSET,
        next_attempt_at: dt.datetime | None | _Unset = UNSET,
        analysis: dict[str, Any] | None = None,
        edit_attributes: Callable[[bytes], bytes] | None = None,
        impressions: int | None | _Unset = UNSET,
        sheets: int | None | _Unset = UNSET,
    ) -> JobRecord:
        """Apply ``event`` through the state table; raises InvalidTransition, JobNotFound.
        With ``analysis`` and ``edit_attributes``, what ``set_analysis`` stores goes in the
        same write (an answered popup: the choice and the release, one commit); with
        ``impressions`` and ``sheets``, what ``set_counts`` stores (a job the printer
        ended: its counts and its end, one commit)."""
        extra: dict[str, Any] = {} if analysis is None else {"analysis": analysis,
                                                            **counted(analysis)}
        for key, val in (
            ("hold_until", hold_until),
            ("hold_until_time", hold_until_time),
            ("next_attempt_at", next_attempt_at),
            ("impressions_completed", impressions),
            ("media_sheets_completed", sheets),
        ):
            if val is not UNSET:
                extra[key] = val
        return await self.write(
            lambda c: writes.transition(c, uuid, event, reasons, message, self.clock(), extra,
                                        edit_attributes)
        )

    async def move_job(self, uuid: str, queue: str,
                       analysis: Mapping[str, Any] | None = None) -> JobRecord:
        """Move a pending or held job to ``queue`` with that queue's next job-id (and
        ``analysis``, when given, as its analysis); raises JobNotMovable, JobNotFound."""
        return await self.write(lambda c: moving.move(c, uuid, queue, self.clock(), analysis))

    async def update_forwarding(
        self,
        uuid: str,
        *,
        destination_uri: str | None | _Unset = UNSET,
        remote_job_id: int | None | _Unset = UNSET,
        forward_started: bool | _Unset = UNSET,
        forward_attempts: int | _Unset = UNSET,
        next_attempt_at: dt.datetime | None | _Unset = UNSET,
        lease_until: dt.datetime | None | _Unset = UNSET,
        reasons: Sequence[str] | _Unset = UNSET,
        message: str | None | _Unset = UNSET,
    ) -> None:
        """Record forwarding progress. Commit ``forward_started=True`` BEFORE sending.
        (Nothing is read back: the forwarder does this several times per job.)"""
        values = _given(
            destination_uri=destination_uri,
            remote_job_id=remote_job_id,
            forward_started=forward_started,
            forward_attempts=forward_attempts,
            next_attempt_at=next_attempt_at,
            lease_until=lease_until,
            state_message=message,
        )
        if not isinstance(reasons, _Unset):
            values["state_reasons"] = list(reasons)
        await self.write(lambda c: writes.set_fields(c, uuid, values, self.clock()))

    async def set_counts(
        self,
        uuid: str,
        *,
        impressions: int | None | _Unset = UNSET,
        sheets: int | None | _Unset = UNSET,
        analysis: dict[str, Any] | None | _Unset = UNSET,
    ) -> JobRecord:
        """job-impressions-completed, job-media-sheets-completed, page analysis."""
        values = _given(
            impressions_completed=impressions, media_sheets_completed=sheets, analysis=analysis
        )
        return await self.write(lambda c: writes.update_fields(c, uuid, values, self.clock()))

    async def set_analysis(
        self,
        uuid: str,
        analysis: dict[str, Any],
        edit_attributes: Callable[[bytes], bytes] | None = None,
    ) -> None:
        """Store a job's intake analysis and, with ``edit_attributes``, rewrite its
        job-attributes blob (forced options) in the same transaction."""

        def work(conn: Connection) -> None:
            values: dict[str, Any] = {"analysis": analysis, **counted(analysis)}
            if edit_attributes is not None:
                job = load_job(conn, uuid)
                if job is not None:
                    values["attributes"] = edit_attributes(job.attributes)
            writes.set_fields(conn, uuid, values, self.clock())

        await self.write(work)

    async def set_owner(self, uuid: str, owner: str) -> None:
        """A job's owner, proven after it was received (``authentication = "popup"``)."""
        await self.write(lambda conn: writes.set_fields(conn, uuid, {"owner": owner},
                                                        self.clock()))

    def recent_owners(
        self, sha256: str, since: dt.datetime, exclude_job: str, limit: int = 200
    ) -> list[str]:
        """Owners of jobs created since ``since`` that hold a document with this sha256
        and were not canceled (duplicate detection). Blocking, on its own read-only
        connection: the policy chain calls it from a thread, never the event loop."""
        j, d = jobs_t.c, documents_t.c
        stmt = (
            select(j.owner)
            .join(documents_t, d.job_uuid == j.uuid)
            .where(d.sha256 == sha256, j.created_at >= since, j.uuid != exclude_job,
                   j.state != int(JobState.CANCELED))
            .limit(limit)
        )
        with reading(self.engine) as conn:
            return [row[0] for row in conn.execute(stmt)]

    async def set_reasons(
        self, uuid: str, reasons: Sequence[str], message: str | None | _Unset = UNSET
    ) -> JobRecord:
        """Change job-state-reasons (and message) without a state change."""
        values = _given(state_message=message)
        values["state_reasons"] = list(reasons)
        return await self.write(lambda c: writes.update_fields(c, uuid, values, self.clock()))

    async def claim_next_for_forwarding(
        self,
        now: dt.datetime | None = None,
        *,
        queues: Iterable[str] | None = None,
        lease: dt.timedelta = dt.timedelta(minutes=10),
    ) -> JobRecord | None:
        """Take the next due pending job (closed, not held, ``next_attempt_at <= now``, its
        queue not paused): it moves to ``processing`` (START) with this node's lease. None
        if none is due, found by :meth:`has_claimable` without a write transaction (the
        forwarder's every wake-up ends with such a claim, and a paused queue's jobs wait)."""
        qs = None if queues is None else tuple(queues)
        due = now or self.clock()
        if not await self.has_claimable(due, queues=qs):
            return None
        return await self.write(
            lambda c: writes.claim_next(c, due, self.clock(), qs, self.node, lease)
        )

    async def has_claimable(self, now: dt.datetime | None = None, *,
                            queues: Iterable[str] | None = None) -> bool:
        """Is a job due that :meth:`claim_next_for_forwarding` would take? A read
        snapshot: no write lock, so idle wake-ups do not queue behind the intake's
        commits. A job may be claimed by another node between this and the claim."""
        qs = None if queues is None else tuple(queues)
        due = now or self.clock()
        return await self.read(lambda c: queries.any_claimable(c, due, qs))

    async def abort_incomplete(self, older_than: dt.datetime) -> list[JobRecord]:
        """Abort jobs still open (Create-Job without last document) since ``older_than``
        (RFC 8011 §5.4.31 multiple-operation-time-out; reason submission-interrupted)."""
        return await self.write(lambda c: writes.abort_incomplete(c, older_than, self.clock()))

    async def purge_history(self, older_than: dt.datetime) -> Purged:
        """Delete terminal jobs completed before ``older_than``. Their job-ids stay used."""

        return await self.write(lambda c: writes.purge(c, older_than))

    async def release_expired_holds(self, now: dt.datetime | None = None) -> list[JobRecord]:
        """RELEASE held jobs whose ``hold_until_time`` has come (call it periodically)."""
        return await self.write(lambda c: writes.release_expired_holds(c, now or self.clock()))

    async def requeue_expired_leases(self, now: dt.datetime | None = None) -> list[JobRecord]:
        """Multi-node: give back jobs whose claim expired (renewed with :meth:`renew_leases`).
        Checked first in a read snapshot: when none has expired (the usual case, every
        node's forwarder asks periodically), no write transaction is opened."""
        due = now or self.clock()
        if not await self.read(lambda c: queries.any_expired_lease(c, due)):
            return []
        return await self.write(lambda c: writes.requeue_expired_leases(c, due))

    async def recover(
        self,
        spool: Spool,
        *,
        verify: bool = True,
        remove_orphans: bool = True,
        min_age: float = 0.0,
    ) -> list[JobRecord]:
        """Give every acknowledged job a defined state after a restart (before serving);
        see _recovery.py (``min_age``: spool files younger than that many seconds are
        kept, for a spool shared with other nodes). Returns the jobs it changed."""
        return await recover(
            self, spool, verify=verify, remove_orphans=remove_orphans, min_age=min_age
        )

    async def renew_leases(self, uuids: Collection[str], lease: dt.timedelta) -> int:
        """Extend this node's lease on ``uuids`` by ``lease`` from now; returns how many
        rows were still its own and still being processed (forwarding/lease.py)."""
        if not uuids:
            return 0
        until = self.clock() + lease
        batch = sorted(uuids)  # a fixed lock order: two nodes renewing never deadlock
        return await self.write(lambda c: writes.renew_leases(c, batch, self.node, until))

    # -- queue states ---------------------------------------------------------------

    async def queue_states(self) -> dict[str, QueueStateRecord]:
        """The stored state of every queue that has one (the others run and accept)."""
        return await self.read(queries.queue_states)

    async def set_queue_state(
        self,
        queue: str,
        *,
        paused: bool | None = None,
        accepting: bool | None = None,
        message: str = "",
    ) -> QueueStateRecord:
        """Pause-/Resume-Printer (``paused``), Disable-/Enable-Printer (``accepting``):
        shared by every node on the database. A paused queue's jobs are not claimed
        (:meth:`claim_next_for_forwarding`) and not waited for (:meth:`next_attempt_time`).
        ``message`` (printer-state-message) is kept only when the state changes."""
        return await self.write(
            lambda c: writes.set_queue_state(c, queue, paused, accepting, message, self.clock())
        )

    async def release_lease(self, uuid: str) -> None:
        await self.write(lambda c: writes.release_lease(c, uuid))


def _given(**kwargs: Any) -> dict[str, Any]:
    return {k: v for k, v in kwargs.items() if v is not UNSET}
