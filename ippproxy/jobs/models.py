"""Tables of the job store: ``queues``, ``queue_states``, ``jobs``, ``documents``,
``spool_copies``, and the IPP event subscriptions ``ipp_subscriptions``, ``ipp_events``.

The schema is created by the hand-written migrations
``ippproxy/db/migrations/versions/0001_jobs.py``, ``0003_spool_copies.py``,
``0004_claim_index.py``, ``0005_queue_states.py``, ``0009_admin_reports.py``,
``0019_ipp_subscriptions.py`` and ``0020_copy_encoding.py``; they must
stay identical
(``tests/jobs/test_models.py`` compares them). Only portable types are used so the
same code runs on SQLite and PostgreSQL. Timestamps are always UTC
(:class:`UTCDateTime`); ``state`` holds the RFC 8011 job-state enum value.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ColumnElement,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    func,
    literal_column,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from ippproxy.db.base import Base, UTCDateTime


class Queue(Base):
    """One row per queue ever used: ``next_job_id`` only grows (job-id is never reused)."""

    __tablename__ = "queues"

    name: Mapped[str] = mapped_column(String(127), primary_key=True)
    next_job_id: Mapped[int] = mapped_column(Integer, nullable=False, default=1)


class QueueState(Base):
    """A queue's printer state set by operators, shared by every node on the database:
    ``paused`` by Pause-Printer / Resume-Printer (RFC 8011 §4.3.7-8: no job of the queue
    is forwarded while it is paused), ``accepting`` by Disable-Printer / Enable-Printer
    (RFC 3998 §3.1), and when and why it last changed. No row: running and accepting."""

    __tablename__ = "queue_states"

    name: Mapped[str] = mapped_column(String(127), primary_key=True)
    paused: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    accepting: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)
    message: Mapped[str] = mapped_column(Text, nullable=False, default="")


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (
        UniqueConstraint("queue", "job_id", name="uq_jobs_queue_job_id"),
        # Get-Jobs: WHERE queue = ? AND state IN (...) ORDER BY ... (RFC 8011 §4.2.6)
        Index("ix_jobs_queue_state", "queue", "state", "job_id"),
        # The forwarder: WHERE state = pending AND closed AND next_attempt_at <= now
        Index("ix_jobs_state_next_attempt", "state", "next_attempt_at"),
        # Ended jobs only (migration 0023_completion_indexes), as every index on the
        # completion time: each reader asks for a range of completion times.
        Index("ix_jobs_completed_at", "completed_at",
              sqlite_where=text("completed_at IS NOT NULL"),
              postgresql_where=text("completed_at IS NOT NULL")),
        # The popups of held jobs from one network address (services/usernotices.py: a
        # client connecting from there): only held jobs are indexed. Migration 0017_peer_address.
        Index("ix_jobs_held_peer", "peer_address",
              sqlite_where=text("state = 4"), postgresql_where=text("state = 4")),
    )

    uuid: Mapped[str] = mapped_column(String(36), primary_key=True)
    queue: Mapped[str] = mapped_column(ForeignKey("queues.name"), nullable=False)
    job_id: Mapped[int] = mapped_column(Integer, nullable=False)
    state: Mapped[int] = mapped_column(Integer, nullable=False)
    state_reasons: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    state_message: Mapped[str | None] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(255), nullable=False)
    name: Mapped[str | None] = mapped_column(String(255))
    originating_host: Mapped[str | None] = mapped_column(String(255))
    # The network address the job came from (the socket's peer, never a claim such as
    # job-originating-host-name): who is asked on a "popup" queue (issue 17 point 1).
    peer_address: Mapped[str | None] = mapped_column(String(64))
    attributes: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    document_format: Mapped[str | None] = mapped_column(String(255))
    hold_until: Mapped[str | None] = mapped_column(String(64))
    hold_until_time: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    priority: Mapped[int] = mapped_column(Integer, nullable=False, default=50)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)
    processing_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    closed: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    # Forwarding. forward_started is written (committed) BEFORE the first byte goes
    # to the destination, so after a crash we know to ask the destination first.
    destination_uri: Mapped[str | None] = mapped_column(String(1023))
    remote_job_id: Mapped[int | None] = mapped_column(Integer)
    forward_attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    forward_started: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    impressions_completed: Mapped[int | None] = mapped_column(Integer)
    media_sheets_completed: Mapped[int | None] = mapped_column(Integer)
    # Our own count at intake (PWG 5100.7 job-impressions, job-impressions-col; NULL when
    # unknown): what the admin reports sum without opening the analysis JSON.
    impressions: Mapped[int | None] = mapped_column(Integer)
    impressions_col: Mapped[int | None] = mapped_column(Integer)
    analysis: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Multi-node: which node works on the job and until when its claim holds.
    node: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Document(Base):
    __tablename__ = "documents"

    job_uuid: Mapped[str] = mapped_column(
        ForeignKey("jobs.uuid", ondelete="CASCADE"), primary_key=True
    )
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str | None] = mapped_column(String(255))
    format: Mapped[str | None] = mapped_column(String(255))
    spool_name: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    # The IPP "compression" the client sent with (RFC 8011 §5.4.32); the spool
    # always holds the decompressed bytes.
    compression: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)


class SpoolCopy(Base):
    """The bytes of a small document whose spool file was not fsync'd: committing this
    row with the job makes the document durable in the same fsync as the job (see
    ``spool.py``). Recovery rewrites the spool file from it if a crash cut the file
    short; the row goes when the job ends."""

    __tablename__ = "spool_copies"

    spool_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    job_uuid: Mapped[str] = mapped_column(String(36), nullable=False, index=True)
    content: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    # "zlib" when ``content`` is compressed, NULL when it is the bytes as received
    # (jobs/_copies.py). Migration 0020_copy_encoding.
    encoding: Mapped[str | None] = mapped_column(String(16))


class IppSubscription(Base):
    """An ippget subscription (RFC 3995 §5.3, RFC 3996): ``id`` is notify-subscription-id
    (AUTOINCREMENT on SQLite: an id is never given out twice), ``sequence`` the last
    notify-sequence-number given out, ``expires_at`` ``renewed + lease`` (NULL: lease 0,
    never). Shared by every node on the database (jobs/subscriptions.py)."""

    __tablename__ = "ipp_subscriptions"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    queue: Mapped[str] = mapped_column(String(127), nullable=False)
    owner: Mapped[str] = mapped_column(String(255), nullable=False)
    events: Mapped[str] = mapped_column(Text, nullable=False)      # keywords, space-separated
    lease: Mapped[int] = mapped_column(Integer, nullable=False)
    job_id: Mapped[int | None] = mapped_column(Integer)
    user_data: Mapped[bytes | None] = mapped_column(LargeBinary)
    time_interval: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)
    renewed: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    sequence: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class IppEvent(Base):
    """One event of one subscription (RFC 3995 §9, RFC 3996 §5.2). ``origin`` names what
    caused it (a job's change, a printer operation): two nodes that turn the same change
    into an event store it once (``uq_ipp_events_origin``)."""

    __tablename__ = "ipp_events"
    __table_args__ = (
        UniqueConstraint("subscription_id", "origin", name="uq_ipp_events_origin"),
        # ippget-event-life (RFC 3996 §5.2): events are dropped by age.
        Index("ix_ipp_events_time", "time"),
    )

    subscription_id: Mapped[int] = mapped_column(Integer, primary_key=True,
                                                 autoincrement=False)
    sequence: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    event: Mapped[str] = mapped_column(String(64), nullable=False)
    queue: Mapped[str] = mapped_column(String(127), nullable=False)
    time: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    job_id: Mapped[int | None] = mapped_column(Integer)
    job_state: Mapped[int | None] = mapped_column(Integer)
    job_reasons: Mapped[str] = mapped_column(Text, nullable=False, default="")
    origin: Mapped[str] = mapped_column(String(128), nullable=False)


queues_t = cast(Table, Queue.__table__)
queue_states_t = cast(Table, QueueState.__table__)
jobs_t = cast(Table, Job.__table__)
# The forwarder's claim (ops.claim_next): WHERE state = pending AND closed AND queue IN
# (...) AND next_attempt_at due ORDER BY priority DESC, created_at, job_id LIMIT 1. In
# claim order, with the filter columns after the order ones, so the first eligible job
# is found by walking the index, not by sorting every pending job: with ix_jobs_queue_state
# a claim sorted every pending job, so draining a backlog grew with its square.
Index("ix_jobs_claim", jobs_t.c.state, jobs_t.c.priority.desc(), jobs_t.c.created_at,
      jobs_t.c.job_id, jobs_t.c.queue, jobs_t.c.closed, jobs_t.c.next_attempt_at)
# The admin reports (jobs/reports.py): pages per day per printer, colour share and top
# users over a window of completion times read this index alone, never the rows.
# State first: the sums are over completed jobs of a time range, one range of this index.
# Only ended jobs (completed_at is set exactly when a job ends): every report asks for a
# range of completion times, which implies the condition, so the planners still use it.
# A job enters it once, when it ends, at the right-hand edge of its state's range. Before
# (migration 0021_report_index), a new job's entry went into its owner's part of the
# pending range, a leaf page of its own for each owner in a commit, and moved at each
# change of state (README, Benchmarks: "Intake, thirty-first session").
Index("ix_jobs_report", jobs_t.c.state, jobs_t.c.completed_at, jobs_t.c.queue, jobs_t.c.owner,
      jobs_t.c.impressions, jobs_t.c.impressions_col, jobs_t.c.impressions_completed,
      sqlite_where=text("completed_at IS NOT NULL"),
      postgresql_where=text("completed_at IS NOT NULL"))
# The admin job history of one printer or one user, newest first, a page at a time.
# Ended jobs only (0023); a queue's other jobs are found through ix_jobs_queue_state.
Index("ix_jobs_queue_completed", jobs_t.c.queue, jobs_t.c.completed_at,
      sqlite_where=text("completed_at IS NOT NULL"),
      postgresql_where=text("completed_at IS NOT NULL"))
# Ended jobs only, as ix_jobs_report (migration 0022_owner_completed): a user's history
# and pagometer (jobs/usage.py) ask for completion times. A job that has not ended is
# found by its owner through ix_jobs_owner_lower (owner_is, at the end of this module).
Index("ix_jobs_owner_completed", jobs_t.c.owner, jobs_t.c.completed_at,
      sqlite_where=text("completed_at IS NOT NULL"),
      postgresql_where=text("completed_at IS NOT NULL"))
# A user's own jobs, newest first (the user web app and /api/v1/me/jobs: jobs/search.py
# compares lower(owner), which ix_jobs_owner_completed cannot serve; migration 0012_user_app).
Index("ix_jobs_owner_lower", func.lower(jobs_t.c.owner), jobs_t.c.created_at)
# The live events' poll of recent changes (jobs/reports.py change_keys), every node's:
# covering, so re-reading the last second of changes never touches the rows.
Index("ix_jobs_updated_at", jobs_t.c.updated_at, jobs_t.c.uuid, jobs_t.c.state)
documents_t = cast(Table, Document.__table__)
spool_copies_t = cast(Table, SpoolCopy.__table__)
ipp_subscriptions_t = cast(Table, IppSubscription.__table__)
ipp_events_t = cast(Table, IppEvent.__table__)


def owner_is(*owners: str) -> ColumnElement[bool]:
    """Jobs whose owner is exactly one of ``owners``, in a form ix_jobs_owner_lower serves:
    ``lower(owner) = lower(name)``, and the exact comparison beside it. Both sides are
    lowered by the database's own function, so the first term holds wherever the second
    does and the result is that of the exact comparison alone. The exact one compares
    ``owner || ''``, not the column: SQLite propagates a ``column = constant`` term into
    the others (``lower(owner)`` would become ``lower('Alice')``, a constant, and the
    index would go unused)."""
    column = jobs_t.c.owner
    exact = column.concat(literal_column("''"))
    if len(owners) == 1:
        return and_(func.lower(column) == func.lower(owners[0]), exact == owners[0])
    return and_(func.lower(column).in_([func.lower(o) for o in owners]), exact.in_(owners))
