"""Immutable views of stored jobs and documents (what :class:`JobStore` returns)."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, bindparam, select

from ippproxy.jobs.models import documents_t, jobs_t
from ippproxy.jobs.state import JobState, is_terminal


class _Unset(enum.Enum):
    UNSET = 0


UNSET = _Unset.UNSET
"""Marker for "leave this field as it is" in update methods."""


class JobNotFound(KeyError):
    pass


class JobClosedError(Exception):
    """Send-Document on a job whose last document was already received (or terminal)."""


@dataclass(frozen=True)
class NewDocument:
    """A document already written to the spool, to be attached to a job."""

    spool_name: str
    size: int
    sha256: str
    format: str | None = None
    name: str | None = None
    compression: str | None = None
    # The bytes of a small document whose spool file was not fsync'd (spool.py): stored
    # with the job in the same commit, which is what makes the document durable.
    content: bytes | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class DocumentHold:
    """A hold decided for a job's document, applied in the write that adds it (and closes
    the job, with the last document): a job that is closed and still pending may be
    claimed by a forwarder at once, so closing it first and holding it in a second write
    let a forwarder send a job that was to be held (a Find-Me queue's, one held for its
    account) before the hold came."""

    reasons: tuple[str, ...]
    message: str | None = None


@dataclass(frozen=True)
class QueueStateRecord:
    """A queue's stored printer state (models.QueueState); a queue without a row is
    running and accepting."""

    queue: str
    paused: bool = False
    accepting: bool = True
    changed_at: dt.datetime | None = None  # None: never changed
    message: str = ""
    # On the record a write returns: the (paused, accepting) that write replaced; None when
    # it changed nothing (and on a record read). What another node's copy of the queue
    # believed is no guide to whether the store changed.
    was: tuple[bool, bool] | None = field(default=None, compare=False)


def queue_state_from_row(row: Mapping[Any, Any]) -> QueueStateRecord:
    return QueueStateRecord(queue=row["name"], paused=bool(row["paused"]),
                            accepting=bool(row["accepting"]), changed_at=row["changed_at"],
                            message=row["message"])


@dataclass(frozen=True)
class DocumentRecord:
    number: int
    spool_name: str
    size: int
    sha256: str
    format: str | None
    name: str | None
    compression: str | None
    created_at: dt.datetime


@dataclass(frozen=True)
class JobRecord:
    uuid: str
    queue: str
    job_id: int
    state: JobState
    state_reasons: tuple[str, ...]
    state_message: str | None
    owner: str
    name: str | None
    originating_host: str | None
    attributes: bytes  # IPP-encoded job attributes, tags kept
    document_format: str | None
    hold_until: str | None
    hold_until_time: dt.datetime | None
    priority: int
    created_at: dt.datetime
    updated_at: dt.datetime
    processing_at: dt.datetime | None
    completed_at: dt.datetime | None
    closed: bool
    destination_uri: str | None
    remote_job_id: int | None
    forward_attempts: int
    next_attempt_at: dt.datetime | None
    forward_started: bool
    impressions_completed: int | None
    media_sheets_completed: int | None
    impressions: int | None          # our count at intake (PWG 5100.7 job-impressions)
    impressions_col: int | None      # of which with colour (job-impressions-col)
    analysis: Mapping[str, Any] | None
    node: str | None
    lease_until: dt.datetime | None
    documents: tuple[DocumentRecord, ...] = field(default=())
    peer_address: str | None = None   # the socket's peer it came from (models.py)

    @property
    def is_terminal(self) -> bool:
        return is_terminal(self.state)

    @property
    def size(self) -> int:
        """Total document bytes (for job-k-octets)."""
        return sum(d.size for d in self.documents)


_JOB_FIELDS = [c.name for c in jobs_t.columns]


def job_from_row(row: Mapping[Any, Any], docs: Sequence[DocumentRecord] = ()) -> JobRecord:
    values = {k: row[k] for k in _JOB_FIELDS}
    values["state"] = JobState(row["state"])
    reasons = row["state_reasons"]
    if not isinstance(reasons, list) or not all(isinstance(r, str) for r in reasons):
        raise ValueError(f"bad state_reasons {reasons!r}")
    values["state_reasons"] = tuple(reasons)
    values["attributes"] = bytes(row["attributes"])
    return JobRecord(**values, documents=tuple(docs))


def doc_from_row(row: Mapping[Any, Any]) -> DocumentRecord:
    return DocumentRecord(
        number=row["number"],
        spool_name=row["spool_name"],
        size=row["size"],
        sha256=row["sha256"],
        format=row["format"],
        name=row["name"],
        compression=row["compression"],
        created_at=row["created_at"],
    )


def load_documents(conn: Connection, uuids: Sequence[str]) -> dict[str, list[DocumentRecord]]:
    out: dict[str, list[DocumentRecord]] = {u: [] for u in uuids}
    for i in range(0, len(uuids), 500):  # stay far below any bind-parameter limit
        rows = conn.execute(
            select(documents_t)
            .where(documents_t.c.job_uuid.in_(uuids[i : i + 500]))
            .order_by(documents_t.c.job_uuid, documents_t.c.number)
        ).mappings()
        for r in rows:
            out[r["job_uuid"]].append(doc_from_row(r))
    return out


# Built once: a job is reloaded after every change the forwarder makes, and building
# a statement (and its cache key) per call cost more than running it.
_JOB = select(jobs_t).where(jobs_t.c.uuid == bindparam("b_uuid"))
_JOB_FOR_UPDATE = _JOB.with_for_update()
_DOCS = (select(documents_t).where(documents_t.c.job_uuid == bindparam("b_uuid"))
         .order_by(documents_t.c.number))


def load_job(conn: Connection, uuid: str, *, for_update: bool = False) -> JobRecord | None:
    params = {"b_uuid": uuid}
    row = conn.execute(_JOB_FOR_UPDATE if for_update else _JOB, params).mappings().one_or_none()
    if row is None:
        return None
    return job_from_row(row, [doc_from_row(r) for r in conn.execute(_DOCS, params).mappings()])


def load_jobs(conn: Connection, rows: Sequence[Mapping[Any, Any]]) -> list[JobRecord]:
    docs = load_documents(conn, [r["uuid"] for r in rows])
    return [job_from_row(r, docs[r["uuid"]]) for r in rows]
