"""The write operations of the job store: synchronous ``op(conn, ...)`` functions.

They run inside the writer thread's transaction (see ``_writer.py``) and never
commit. Job creation is in ``_create.py``. Every state change goes through :func:`apply_event`,
which consults the transition table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Connection,
    Select,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from ippproxy.jobs._create import copy_rows, document_rows, insert_documents
from ippproxy.jobs.models import documents_t, jobs_t, queue_states_t, spool_copies_t
from ippproxy.jobs.queries import LEASED, claimable, expired_leases_stmt
from ippproxy.jobs.records import (
    DocumentHold,
    JobClosedError,
    JobNotFound,
    JobRecord,
    NewDocument,
    QueueStateRecord,
    job_from_row,
    load_job,
    queue_state_from_row,
)
from ippproxy.jobs.state import (
    INCOMING_REASONS,
    TERMINAL,
    JobEvent,
    JobState,
    default_reasons,
    merge_reasons,
    next_state,
)

# UPDATE jobs SET <the columns given as parameters> WHERE uuid = :b_uuid, built once.
_UPDATE_JOB = update(jobs_t).where(jobs_t.c.uuid == bindparam("b_uuid"))
# The states in which a job carries its node's lease (forwarding/lease.py).
_DELETE_COPIES = delete(spool_copies_t).where(spool_copies_t.c.job_uuid == bindparam("b_uuid"))


def _update_job(conn: Connection, uuid: str, values: dict[str, Any]) -> int:
    """Set ``values`` (column name -> value) on one job; returns the rows matched."""
    return conn.execute(_UPDATE_JOB, {"b_uuid": uuid, **values}).rowcount


def _locked(conn: Connection, uuid: str) -> JobRecord:
    rec = load_job(conn, uuid, for_update=True)
    if rec is None:
        raise JobNotFound(uuid)
    return rec


def add_document(
    conn: Connection, uuid: str, doc: NewDocument | None, last: bool, now: dt.datetime,
    hold: DocumentHold | None = None,
) -> JobRecord:
    """``hold``: a job still pending is held in this same transaction."""
    rec = _locked(conn, uuid)
    if rec.closed or rec.is_terminal:
        raise JobClosedError(f"job {rec.job_id} does not accept more documents")
    values: dict[str, Any] = {"updated_at": now}
    if doc is not None:
        last_number = conn.execute(
            select(func.max(documents_t.c.number)).where(documents_t.c.job_uuid == uuid)
        ).scalar_one_or_none()
        rows = document_rows(uuid, (last_number or 0) + 1, [doc], now)
        insert_documents(conn, rows, copy_rows(uuid, [doc]))
        if rec.document_format is None and doc.format is not None:
            values["document_format"] = doc.format
    if last:
        values["closed"] = True
        values["state_reasons"] = list(merge_reasons(rec.state_reasons, drop=INCOMING_REASONS))
    _update_job(conn, uuid, values)
    rec = _reload(conn, uuid)
    if hold is not None and rec.state == JobState.PENDING:
        return apply_event(conn, rec, JobEvent.HOLD, hold.reasons, hold.message, now,
                           {"hold_until": "indefinite"})
    return rec


def _reload(conn: Connection, uuid: str) -> JobRecord:
    rec = load_job(conn, uuid)
    if rec is None:
        raise JobNotFound(uuid)
    return rec


def apply_event(
    conn: Connection,
    rec: JobRecord,
    event: JobEvent,
    reasons: Sequence[str] | None,
    message: str | None,
    now: dt.datetime,
    extra: dict[str, Any] | None = None,
) -> JobRecord:
    """Move ``rec`` by ``event`` (the table decides), with default reasons if none given."""
    new = next_state(rec.state, event)
    rs = tuple(reasons) if reasons is not None else default_reasons(new, event)
    if not rec.closed and new not in TERMINAL:
        rs = merge_reasons(rs, add=INCOMING_REASONS)
    values: dict[str, Any] = {
        "state": int(new),
        "state_reasons": list(rs),
        "state_message": message,
        "updated_at": now,
    }
    if new == JobState.PROCESSING and rec.processing_at is None:
        values["processing_at"] = now
    if event == JobEvent.RELEASE:
        values.update(hold_until=None, hold_until_time=None)
    if event == JobEvent.REQUEUE:
        values.update(node=None, lease_until=None)
    if new in TERMINAL:
        values.update(completed_at=now, node=None, lease_until=None, next_attempt_at=None)
        # An ended job is never sent again: its documents need no second copy.
        conn.execute(_DELETE_COPIES, {"b_uuid": rec.uuid})
    values.update(extra or {})
    _update_job(conn, rec.uuid, values)
    return _reload(conn, rec.uuid)


def transition(
    conn: Connection,
    uuid: str,
    event: JobEvent,
    reasons: Sequence[str] | None,
    message: str | None,
    now: dt.datetime,
    extra: dict[str, Any],
    edit_attributes: Callable[[bytes], bytes] | None = None,
) -> JobRecord:
    rec = _locked(conn, uuid)
    if edit_attributes is not None:   # rewritten from the row locked for this change
        extra = {**extra, "attributes": edit_attributes(rec.attributes)}
    return apply_event(conn, rec, event, reasons, message, now, extra)


def update_fields(
    conn: Connection, uuid: str, values: dict[str, Any], now: dt.datetime
) -> JobRecord:
    set_fields(conn, uuid, values, now)
    return _reload(conn, uuid)


def set_fields(conn: Connection, uuid: str, values: dict[str, Any], now: dt.datetime) -> None:
    """``update_fields`` for a caller that needs no record back (no reload)."""
    if _update_job(conn, uuid, {**values, "updated_at": now}) == 0:
        raise JobNotFound(uuid)


def claim_stmt(due: dt.datetime, queues: tuple[str, ...] | None) -> Select[Any]:
    """The next due pending job, in claim order (served by the index ix_jobs_claim)."""
    j = jobs_t.c
    stmt = select(jobs_t).where(*claimable(due, queues))
    stmt = stmt.order_by(j.priority.desc(), j.created_at, j.job_id).limit(1)
    return stmt.with_for_update(skip_locked=True)


def claim_next(
    conn: Connection,
    due: dt.datetime,
    now: dt.datetime,
    queues: tuple[str, ...] | None,
    node: str | None,
    lease: dt.timedelta,
) -> JobRecord | None:
    row = conn.execute(claim_stmt(due, queues)).mappings().one_or_none()
    if row is None:
        return None
    # apply_event reads only the row's own fields and reloads the job (with its documents).
    return apply_event(
        conn,
        job_from_row(row, []),
        JobEvent.START,
        None,
        None,
        now,
        {"node": node, "lease_until": now + lease},
    )


def abort_incomplete(
    conn: Connection, older_than: dt.datetime, now: dt.datetime
) -> list[JobRecord]:
    j = jobs_t.c
    uuids = (
        conn.execute(
            select(j.uuid).where(
                j.closed.is_(False),
                j.state.in_([int(s) for s in JobState if s not in TERMINAL]),
                j.updated_at < older_than,
            )
        )
        .scalars()
        .all()
    )
    return [
        apply_event(
            conn,
            _reload(conn, u),
            JobEvent.ABORT,
            ("aborted-by-system", "submission-interrupted"),
            "the job was not closed in time (no last document)",
            now,
        )
        for u in uuids
    ]


@dataclass(frozen=True)
class Purged:
    job_uuids: tuple[str, ...]
    spool_names: tuple[str, ...]  # the caller deletes these files from the spool


def purge(c: Connection, older_than: dt.datetime) -> Purged:
    """Delete terminal jobs completed before ``older_than`` (their job-ids stay used)."""
    uuids = list(
        c.execute(
            select(jobs_t.c.uuid).where(
                jobs_t.c.state.in_([int(s) for s in TERMINAL]),
                or_(jobs_t.c.completed_at < older_than, jobs_t.c.completed_at.is_(None)),
            )
        ).scalars()
    )
    names: list[str] = []
    for i in range(0, len(uuids), 500):
        part = uuids[i : i + 500]
        names += c.execute(
            select(documents_t.c.spool_name).where(documents_t.c.job_uuid.in_(part))
        ).scalars()
        c.execute(delete(documents_t).where(documents_t.c.job_uuid.in_(part)))
        c.execute(delete(spool_copies_t).where(spool_copies_t.c.job_uuid.in_(part)))
        c.execute(delete(jobs_t).where(jobs_t.c.uuid.in_(part)))
    return Purged(tuple(uuids), tuple(names))


def release_expired_holds(conn: Connection, now: dt.datetime) -> list[JobRecord]:
    """Release held jobs whose job-hold-until-time has passed (PWG 5100.7)."""
    j = jobs_t.c
    uuids = (
        conn.execute(
            select(j.uuid).where(
                j.state == JobState.PENDING_HELD,
                j.hold_until_time.is_not(None),
                j.hold_until_time <= now,
            )
        )
        .scalars()
        .all()
    )
    return [apply_event(conn, _reload(conn, u), JobEvent.RELEASE, None, None, now) for u in uuids]


def requeue_expired_leases(conn: Connection, now: dt.datetime) -> list[JobRecord]:
    """Jobs a node claimed and stopped renewing (it died): back to pending. Their
    ``forward_started`` stays, so the next forwarder asks the destination first."""
    uuids = conn.execute(expired_leases_stmt(now)).scalars().all()
    message = "requeued: the node forwarding it stopped renewing its lease"
    return [
        apply_event(conn, _reload(conn, u), JobEvent.REQUEUE, None, message, now) for u in uuids
    ]



def renew_leases(
    conn: Connection, uuids: Sequence[str], node: str | None, until: dt.datetime
) -> int:
    """Extend ``node``'s lease on ``uuids`` to ``until``, only on rows still claimed by it
    and still being processed (see forwarding/lease.py); returns the rows renewed."""
    j = jobs_t.c
    mine = j.node.is_(None) if node is None else j.node == node
    result = conn.execute(
        update(jobs_t).where(j.uuid.in_(uuids), mine, j.state.in_(LEASED))
        .values(lease_until=until)
    )
    return int(result.rowcount)


def release_lease(conn: Connection, uuid: str) -> None:
    conn.execute(update(jobs_t).where(jobs_t.c.uuid == uuid).values(node=None, lease_until=None))


def set_queue_state(
    conn: Connection,
    queue: str,
    paused: bool | None,
    accepting: bool | None,
    message: str,
    now: dt.datetime,
) -> QueueStateRecord:
    """Set what is given (None: leave it) of ``queue``'s state; ``changed_at`` and the
    message change only when ``paused`` or ``accepting`` does (printer-state-change-time,
    RFC 8011 §5.4.41). Returns the state after, its ``was`` set when this write changed it."""
    q = queue_states_t.c
    row = conn.execute(
        select(queue_states_t).where(q.name == queue).with_for_update()
    ).mappings().one_or_none()
    old = QueueStateRecord(queue) if row is None else queue_state_from_row(row)
    new = QueueStateRecord(queue, old.paused if paused is None else paused,
                           old.accepting if accepting is None else accepting, now, message,
                           was=(old.paused, old.accepting))
    if (new.paused, new.accepting) == (old.paused, old.accepting):
        return old
    values = {"paused": new.paused, "accepting": new.accepting, "changed_at": now,
              "message": message}
    if row is None:
        try:
            with conn.begin_nested():
                conn.execute(insert(queue_states_t).values(name=queue, **values))
            return new
        except IntegrityError:  # another node created the row first: set it
            pass
    conn.execute(update(queue_states_t).where(q.name == queue).values(**values))
    return new
