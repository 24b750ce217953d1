"""Leases on claimed jobs: several nodes forwarding from one database.

Theory of operation
-------------------
``claim_next_for_forwarding`` gives the claiming node (the store's ``node``) a lease
on the job (``lease_until``). While a node forwards and follows a job it renews the
lease every third of its length (:func:`keep_leases` through
``JobStore.renew_leases``, only on rows that are still its own and still being
processed), and every node gives back the jobs of nodes that stopped renewing
(``requeue_expired_leases``: they died, or lost the database). A job given back keeps
``forward_started``, so whoever claims it next asks the destination for the job-uuid
before sending anything: a node's death never prints a job twice. Start-up recovery
of a node with a name leaves the leased jobs of the others alone.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Collection

from ippproxy.jobs.store import JobStore

log = logging.getLogger(__name__)
LEASE = dt.timedelta(seconds=60)


async def keep_leases(store: JobStore, held: Callable[[], Collection[str]],
                      lease: dt.timedelta, taken_back: Callable[[], None]) -> None:
    """Forever: every third of ``lease``, renew the lease on the jobs ``held()`` and give
    back the expired claims of every node (``taken_back()`` is told when there were any,
    so that they are claimed again at once)."""
    while True:
        await asyncio.sleep(lease.total_seconds() / 3)
        try:
            await store.renew_leases(list(held()), lease)
            if await store.requeue_expired_leases():
                taken_back()
        except Exception:  # a store hiccup must not end renewing for good
            log.exception("forwarder leases")
