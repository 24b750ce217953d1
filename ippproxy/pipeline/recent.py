"""Duplicate-job lookup (``policies.RecentJobs``) through the job store.

A job counts as seen when the same owner has a job, created since ``since``, that holds a
document with the same sha256 (the spool hashes the decompressed bytes) and that was not
canceled (``JobStore.recent_owners``). Owners compare by canonical name (in Python: SQL
lower() is not casefold). Blocking: the policy chain runs in a thread.
"""

from __future__ import annotations

import datetime as dt

from ippproxy.accounting.identity import canonical_name
from ippproxy.jobs.store import JobStore


class StoreRecentJobs:
    def __init__(self, store: JobStore) -> None:
        self.store = store

    def seen(self, user: str, sha256: str, since: dt.datetime, exclude_job: str) -> bool:
        for owner in self.store.recent_owners(sha256, since, exclude_job):
            try:
                if canonical_name(owner) == user:
                    return True
            except ValueError:
                continue
        return False
