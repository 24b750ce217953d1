"""Leases on claimed jobs: several nodes forwarding from one database.

Theory of operation
-------------------
``claim_next_for_forwarding`` gives the claiming node (the store's ``node``) a lease
on the job (``lease_until``). While a node forwards and follows a job it renews the
lease every third of its length (:func:`renew`, only on rows that are still its own
and still being processed), and every node gives back the jobs of nodes that stopped
renewing (``requeue_expired_leases``: they died, or lost the database). A job given
back keeps ``forward_started``, so whoever claims it next asks the destination for
the job-uuid before sending anything: a node's death never prints a job twice.
Start-up recovery of a node with a name leaves the leased jobs of the others alone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import TYPE_CHECKING

from sqlalchemy import Connection, update

from ippproxy.jobs.models import jobs_t
from ippproxy.jobs.state import JobState

if TYPE_CHECKING:
    from ippproxy.jobs.store import JobStore

LEASE = dt.timedelta(seconds=60)
_ACTIVE = (int(JobState.PROCESSING), int(JobState.PROCESSING_STOPPED))


def _renew(conn: Connection, uuids: list[str], node: str | None, until: dt.datetime) -> int:
    j = jobs_t.c
    mine = j.node.is_(None) if node is None else j.node == node
    result = conn.execute(update(jobs_t).where(j.uuid.in_(uuids), mine, j.state.in_(_ACTIVE))
                          .values(lease_until=until))
    return int(result.rowcount)


async def renew(store: JobStore, uuids: Collection[str], lease: dt.timedelta) -> int:
    """Extend this node's lease on ``uuids``; returns how many rows were still ours."""
    if not uuids:
        return 0
    until = store.clock() + lease
    node = store.node
    batch = sorted(uuids)  # a fixed lock order
    return await store.write(lambda c: _renew(c, batch, node, until))
