"""Ledger units of work in the job store's group commit: the reservation at intake.

A reservation run the ledger's own way (``accounting/txn.py``) costs a hand-off to an
executor thread, a transaction and a commit of its own (on SQLite, a sync of the log; on
PostgreSQL a flush of its write-ahead log), beside the job store's (``jobs/_writer.py``).
Handed to the job store's writer instead, it shares a batch's commit:

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
own way, which retries it alone and replays what was committed.

On PostgreSQL a batch holds the row locks of its reservations' accounts until its COMMIT,
and another node's batch may want the same rows: the batch runs them in the order of the
rows they lock (``JobStore.create_job(before_key=)``: a shared account's code, else the
user's personal account), the same order on every node, so that no two batches wait for
each other in a circle. A circle the keys do not foresee (a delegated account) is broken
by PostgreSQL's deadlock detection: the batch is run again one op at a time, and the op
that failed is run alone, as above. There, where each statement is a round trip, a batch
first reads the payers of all its reservations in one statement
(``AccountingService.read_ahead``, given to ``JobStore.create_job(read_ahead=)``).
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
