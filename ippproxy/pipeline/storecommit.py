"""Ledger units of work in the job store's group commit (SQLite): the reservation at intake.

On SQLite the ledger and the jobs are one file, and the file has one writer at a time.
A reservation run the ledger's own way (``accounting/txn.py``) costs a hand-off to an
executor thread, a transaction and a sync of the log of its own, beside the job store's
(``jobs/_writer.py``). Handed to the job store's writer instead, it is one more unit of
that writer's next batch: it shares the batch's commit and sync, and its caller hears of
it only once it is on disk, as from the ledger. At intake the caller hears of it once
it is committed: the job's creation follows in a later batch, and the answer waits for
that batch's sync, which is this one's too (the log is synced in order). A crash
between the two leaves a reservation without its job, which the settlement's sweep
releases (``accounting.orphan_lease``), as it did before when the crash came after
the reservation's own sync. The unit only reads and writes through
the connection it is given, and a unit that raises is rolled back alone (the writer
re-runs the batch with a SAVEPOINT per unit), so its caller gets the ledger's own errors
(a refused credit, a closed account) as before.

A database error there (the lock, a concurrent insert of the same key) and the unit is
run again the ledger's own way, which retries it alone and replays what was committed.
On PostgreSQL there is no writer: one node's batch holding several accounts' row locks
could deadlock with another node's, and the ledger's transactions are one unit each.
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
