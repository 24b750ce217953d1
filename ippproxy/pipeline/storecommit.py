"""Ledger units of work in the job store's group commit (SQLite): the reservation at intake.

On SQLite the ledger and the jobs are one file, and the file has one writer at a time.
A reservation run the ledger's own way (``accounting/txn.py``) costs a hand-off to an
executor thread, a transaction and a sync of the log of its own, beside the job store's
(``jobs/_writer.py``). Handed to the job store's writer instead, it shares a batch's
commit and sync:

* **Print-Job**: the reservation is made by the job's creation, first, in the same
  transaction (``Metering.reserve(defer=True)`` returns it as a ``Deferred``;
  ``JobStore.create_job(before=...)``): one writer op, one commit, one sync for both, and
  no crash can leave one without the other. If it raises, the job is not stored (the
  writer re-runs the batch with a SAVEPOINT per op, so the other jobs are) and the
  caller gets the ledger's own error (a refused credit, a closed account): a payer
  problem then creates the job held for its payer (``Metering.deferred_failed``).
* **Send-Document**'s last document: a unit of its own (:func:`run_unit`), answered once
  committed (``synced=False``); the job's writes that follow are synced before the
  answer, and that sync covers it too (the log is synced in order). A crash between the
  two leaves the job open with its reservation: the job is aborted when its time for
  more documents runs out, and the settlement refunds an aborted job that never printed.

The unit only reads and writes through the connection it is given. A database error
there (the lock, a concurrent insert of the same key) and it is run again the ledger's
own way, which retries it alone and replays what was committed. On PostgreSQL there is
no writer: one node's batch holding several accounts' row locks could deadlock with
another node's, and the ledger's transactions are one unit each.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Protocol, TypeVar

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

log = logging.getLogger(__name__)
T = TypeVar("T")


class Writer(Protocol):
    """``JobStore.write``: ``op(conn)`` in the writer's next batch, returned once synced
    (``synced=False``: once committed)."""

    async def __call__(self, op: Callable[[Connection], T], *, synced: bool = True
                       ) -> T: ...


async def run_unit(writer: Writer | None, unit: Callable[[Connection], T],
                   alone: Callable[[], T], what: str, *, synced: bool = True) -> T:
    """``unit`` in the job store's group commit when there is a ``writer``; else, or
    after a database error there, ``alone()`` (the ledger's own transaction) in a thread.
    ``synced=False``: returns once the unit is committed, before the log is synced, for
    a caller whose next write to the store (synced) comes before it tells anyone."""
    if writer is not None:
        try:
            return await writer(unit, synced=synced)
        except DBAPIError as e:
            log.info("%s: run again alone after %s", what, e)
    return await asyncio.to_thread(alone)
