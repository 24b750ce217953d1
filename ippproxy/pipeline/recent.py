"""Duplicate-job lookup (``policies.RecentJobs``) over the job store's tables.

A job counts as seen when the same owner has a job, created since ``since``, that holds a
document with the same sha256 (the spool hashes the decompressed bytes) and that was not
canceled. Owners compare by canonical name (in Python: SQL lower() is not casefold). Blocking: the
policy chain runs in a thread.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, select

from ippproxy.accounting.identity import canonical_name
from ippproxy.jobs.models import documents_t, jobs_t
from ippproxy.jobs.state import JobState


class StoreRecentJobs:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def seen(self, user: str, sha256: str, since: dt.datetime, exclude_job: str) -> bool:
        j, d = jobs_t.c, documents_t.c
        stmt = (select(j.uuid, j.owner).join(documents_t, d.job_uuid == j.uuid)
                .where(d.sha256 == sha256, j.created_at >= since, j.uuid != exclude_job,
                       j.state != int(JobState.CANCELED)).limit(200))
        with self.engine.connect() as conn:
            conn.execution_options(sqlite_begin="DEFERRED")
            rows = conn.execute(stmt).all()
        for _uuid, owner in rows:
            try:
                if canonical_name(owner) == user:
                    return True
            except ValueError:
                continue
        return False
