"""A user's jobs as personal data (issue 18, GDPR): whether any are on record (a user with
job history is deleted logically), their metadata for the personal data download (never the
documents), and erasure: the owner's name and the job and document names cleared, the page
counts kept. On a Connection, so the accounting side writes its erasure in the same
transaction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Connection, exists, func, select, update

from ippproxy.jobs.models import documents_t, jobs_t

_META = (jobs_t.c.uuid, jobs_t.c.queue, jobs_t.c.job_id, jobs_t.c.state, jobs_t.c.name,
         jobs_t.c.document_format, jobs_t.c.impressions, jobs_t.c.impressions_col,
         jobs_t.c.impressions_completed, jobs_t.c.created_at, jobs_t.c.completed_at)


def _owned(owner: str) -> ColumnElement[bool]:
    # Jobs keep the requesting-user-name as sent ("Alice"); one user is one name whatever
    # its case (accounting/identity.py), as jobs/search.py compares it.
    return func.lower(jobs_t.c.owner) == owner.lower()


def has_jobs(conn: Connection, owner: str) -> bool:
    return bool(conn.execute(select(exists().where(_owned(owner)))).scalar())


def job_metadata(conn: Connection, owner: str) -> list[dict[str, Any]]:
    """The owner's jobs, oldest first: ids, state, name, format, page counts, times."""
    rows = conn.execute(select(*_META).where(_owned(owner))
                        .order_by(jobs_t.c.created_at, jobs_t.c.uuid))
    return [dict(r._mapping) for r in rows]


def erase_owner(conn: Connection, owner: str, placeholder: str) -> int:
    """The owner's jobs renamed to ``placeholder``, their job and document names cleared;
    the number of jobs."""
    uuids = select(jobs_t.c.uuid).where(_owned(owner)).scalar_subquery()
    conn.execute(update(documents_t).where(documents_t.c.job_uuid.in_(uuids))
                 .values(name=None))
    return conn.execute(update(jobs_t).where(_owned(owner))
                        .values(owner=placeholder, name=None, originating_host=None,
                                         peer_address=None)).rowcount
