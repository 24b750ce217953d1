"""Job creation, a whole group-commit batch at once.

The intake path (Print-Job, Create-Job) is the hot one, and the writer thread that
commits it is its narrowest point: every job of the server passes through it, one batch
after the other, while it shares the GIL with the event loop. So the work is split:
:func:`stage` runs on the event loop (each request for itself) and builds the job's,
documents' and spool copies' rows in the database driver's form (``_prepared.py``),
leaving only the job-id blank; :func:`insert_staged` runs in the writer thread, takes
every create of one batch and stores them with one ``UPDATE queues ... RETURNING`` per
queue (job-ids are handed out in blocks) and one driver ``executemany`` per table, and
returns the job-ids; :meth:`StagedJob.record` then builds the JobRecord back on the
event loop. If any statement fails, the writer reruns the batch one op at a time.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Dialect, bindparam, insert, update
from sqlalchemy.exc import IntegrityError

from ippproxy.db.prepared import Prepared
from ippproxy.jobs._copies import pack
from ippproxy.jobs._prepared import PreparedInsert
from ippproxy.jobs.models import documents_t, jobs_t, queues_t, spool_copies_t
from ippproxy.jobs.records import JobRecord, NewDocument, doc_from_row
from ippproxy.jobs.state import INCOMING_REASONS, JobState, default_reasons, merge_reasons


@dataclass(frozen=True)
class NewJob:
    uuid: str
    queue: str
    owner: str
    name: str | None
    attributes: bytes
    document_format: str | None
    hold_until: str | None
    hold_until_time: dt.datetime | None
    priority: int
    originating_host: str | None
    destination_uri: str | None
    documents: tuple[NewDocument, ...]
    closed: bool
    reasons: tuple[str, ...] | None
    message: str | None
    analysis: dict[str, Any] | None
    peer_address: str | None = None


# Statements built once; the counter's bump compiled once and run on the driver's cursor
# (db/prepared.py), as the inserts are (_prepared.py).
_BUMP = Prepared(
    update(queues_t)
    .where(queues_t.c.name == bindparam("qname"))
    .values(next_job_id=queues_t.c.next_job_id + bindparam("count"))
    .returning(queues_t.c.next_job_id)
)
_NEW_QUEUE = insert(queues_t)
_INSERT_JOB = PreparedInsert(jobs_t)
_INSERT_DOCS = PreparedInsert(documents_t)
_INSERT_COPIES = PreparedInsert(spool_copies_t)


def allocate_job_ids(conn: Connection, queue: str, count: int = 1) -> int:
    """Reserve ``count`` consecutive job-ids of ``queue``; returns the first.

    The counter only grows, so ids are never reused (not after deletion, not after a
    restart). ``UPDATE ... RETURNING`` locks the queue row until COMMIT, so two
    processes on one PostgreSQL never hand out the same id.
    """
    params = {"qname": queue, "count": count}
    row = _BUMP.first(conn, params)
    new = None if row is None else row[0]
    if new is None:
        try:
            with conn.begin_nested():
                conn.execute(_NEW_QUEUE, {"name": queue, "next_job_id": 1})
        except IntegrityError:  # another node created it first
            pass
        [(new,)] = _BUMP.rows(conn, params)
    return int(new) - count


def counted(analysis: dict[str, Any] | None) -> dict[str, int | None]:
    """The ``impressions`` columns from an intake analysis (pipeline/metering.py keeps the
    PWG 5100.7 counts under ``attributes``); None where it has none."""
    attrs = analysis.get("attributes") if isinstance(analysis, dict) else None
    if not isinstance(attrs, dict):
        return {"impressions": None, "impressions_col": None}
    imp, col = attrs.get("job-impressions"), attrs.get("job-impressions-col")
    return {"impressions": imp if isinstance(imp, int) else None,
            "impressions_col": col if isinstance(col, int) else None}


def _rows(spec: NewJob, job_id: int | None, now: dt.datetime) -> tuple[dict[str, Any], list[Any]]:
    state = JobState.PENDING_HELD if spec.hold_until else JobState.PENDING
    reasons = spec.reasons if spec.reasons is not None else default_reasons(state)
    if not spec.closed:
        reasons = merge_reasons(reasons, add=INCOMING_REASONS)
    job: dict[str, Any] = {
        "uuid": spec.uuid,
        "queue": spec.queue,
        "job_id": job_id,
        "state": int(state),
        "state_reasons": list(reasons),
        "state_message": spec.message,
        "owner": spec.owner,
        "name": spec.name,
        "originating_host": spec.originating_host,
        "peer_address": spec.peer_address,
        "attributes": spec.attributes,
        "document_format": spec.document_format,
        "hold_until": spec.hold_until,
        "hold_until_time": spec.hold_until_time,
        "priority": spec.priority,
        "created_at": now,
        "updated_at": now,
        "processing_at": None,
        "completed_at": None,
        "closed": spec.closed,
        "destination_uri": spec.destination_uri,
        "remote_job_id": None,
        "forward_attempts": 0,
        "next_attempt_at": None,
        "forward_started": False,
        "impressions_completed": None,
        "media_sheets_completed": None,
        **counted(spec.analysis),
        "analysis": spec.analysis,
        "node": None,
        "lease_until": None,
    }
    return job, document_rows(spec.uuid, 1, spec.documents, now)


def document_rows(
    job_uuid: str, first: int, docs: Sequence[NewDocument], now: dt.datetime
) -> list[dict[str, Any]]:
    return [
        {
            "job_uuid": job_uuid,
            "number": first + i,
            "name": d.name,
            "format": d.format,
            "spool_name": d.spool_name,
            "size": d.size,
            "sha256": d.sha256,
            "compression": d.compression,
            "created_at": now,
        }
        for i, d in enumerate(docs)
    ]


def copy_rows(job_uuid: str, docs: Sequence[NewDocument]) -> list[dict[str, Any]]:
    """``spool_copies`` rows for the documents that carry their bytes (spool.py)."""
    return [{"spool_name": d.spool_name, "job_uuid": job_uuid, "content": d.content}
            for d in docs if d.content is not None]


def insert_documents(conn: Connection, docs: list[dict[str, Any]],
                     copies: list[dict[str, Any]]) -> None:
    _INSERT_DOCS.execute(conn, docs)
    # In the same transaction as the rows: one commit makes both durable.
    _INSERT_COPIES.execute(conn, [pack(c) for c in copies])


# ``StagedJob.read_ahead``: given the ``before`` writes of a batch that name it.
ReadAhead = Callable[[Connection, Sequence[Callable[[Connection], object]]], None]


@dataclass(frozen=True)
class StagedJob:
    """A new job with its rows ready for the driver; only the job-id is still blank."""

    queue: str
    row: dict[str, Any]                 # the job's row (job_id None), for the record
    docs: tuple[dict[str, Any], ...]    # its documents' rows, for the record
    job_params: Any                     # the driver's form of ``row``
    id_slot: int | str                  # where the job-id goes in ``job_params``
    doc_params: tuple[Any, ...]
    copies: tuple[dict[str, Any], ...]  # packed and made the driver's in the writer
    # Another package's write that the job is created with, in the same transaction and
    # first (intake's reservation: pipeline/storecommit.py): if it raises, the job is not
    # stored and its caller gets the error (the writer re-runs the batch without it).
    before: Callable[[Connection], object] | None = None
    before_key: str = ""    # the order of ``before`` within a batch: the row it locks
    # Reads first, in one go, what the batch's ``before`` writes with this same function
    # would each read alone (on PostgreSQL a statement is a round trip, and the writer runs
    # a batch's writes one after another): given them all, it hands each its part.
    read_ahead: ReadAhead | None = None

    def record(self, job_id: int) -> JobRecord:
        # The row was built by ``_rows`` from typed values, not read from a database:
        # it needs none of job_from_row's checks and conversions (every intake pays this).
        return JobRecord(**{**self.row, "job_id": job_id,
                            "state": JobState(self.row["state"]),
                            "state_reasons": tuple(self.row["state_reasons"]),
                            "attributes": bytes(self.row["attributes"])},
                         documents=tuple(doc_from_row(d) for d in self.docs))


def stage(dialect: Dialect, spec: NewJob, now: dt.datetime,
          before: Callable[[Connection], object] | None = None,
          before_key: str = "", read_ahead: ReadAhead | None = None) -> StagedJob:
    """Build a job's rows (on the event loop, before it goes to the writer)."""
    job, docs = _rows(spec, None, now)
    return StagedJob(
        before=before, before_key=before_key, read_ahead=read_ahead,
        queue=spec.queue, row=job, docs=tuple(docs),
        job_params=_INSERT_JOB.params(dialect, job),
        id_slot=_INSERT_JOB.slot(dialect, "job_id"),
        doc_params=tuple(_INSERT_DOCS.params(dialect, d) for d in docs),
        copies=tuple(copy_rows(spec.uuid, spec.documents)))


def insert_staged(conn: Connection, staged: Sequence[StagedJob]) -> list[int]:
    """Store several staged jobs (the writer thread); returns their job-ids in order."""
    # The reservations lock their accounts' rows (PostgreSQL: until the COMMIT) in the order
    # of their keys, the same on every node: two nodes' batches do not wait for each other
    # in a circle (a deadlock PostgreSQL would break after a second).
    ordered = sorted(staged, key=lambda s: s.before_key)
    ahead: dict[ReadAhead, list[Callable[[Connection], object]]] = {}
    for s in ordered:
        if s.before is not None and s.read_ahead is not None:
            ahead.setdefault(s.read_ahead, []).append(s.before)
    for read, befores in ahead.items():
        read(conn, befores)
    for s in ordered:
        if s.before is not None:
            s.before(conn)
    by_queue: dict[str, list[int]] = defaultdict(list)
    for i, s in enumerate(staged):
        by_queue[s.queue].append(i)
    ids = [0] * len(staged)
    for queue in sorted(by_queue):  # a fixed lock order: no deadlock between nodes
        first = allocate_job_ids(conn, queue, len(by_queue[queue]))
        for n, i in enumerate(by_queue[queue]):
            ids[i] = first + n
    for s, job_id in zip(staged, ids, strict=True):
        s.job_params[s.id_slot] = job_id  # (set again if the batch is rerun: harmless)
    _INSERT_JOB.run(conn, [s.job_params for s in staged])
    _INSERT_DOCS.run(conn, [p for s in staged for p in s.doc_params])
    # In the same transaction as the rows: one commit makes both durable.
    _INSERT_COPIES.run(conn, [_INSERT_COPIES.params(conn.dialect, pack(c))
                              for s in staged for c in s.copies])
    return ids
