"""Run a unit of work in one transaction, retrying what concurrency makes retryable.

PostgreSQL (READ COMMITTED, row locks with ``SELECT ... FOR UPDATE``) may still
report a deadlock (40P01) or, under SERIALIZABLE, a serialization failure
(40001); SQLite (``BEGIN IMMEDIATE`` from :func:`ippproxy.db.make_engine`,
busy_timeout 30 s) may report "database is locked" after the timeout. Those are
retried with a short jittered back-off. An ``IntegrityError`` is retried once
only: the usual cause is a concurrent insert of the same idempotency key, and
on retry the unit of work finds that row and replays it; a second one is a bug
and propagates.

On SQLite the units of work that arrive together share one transaction (group
commit, groupcommit.py): SQLite has one writer at a time, so threads that each
opened their own write transaction would queue on its lock (its busy handler
polls with sleeps of up to 100 ms) and pay one fsync of the WAL each; together
they pay one. Each unit runs in its own SAVEPOINT, so a unit that fails (a refused
credit, a conflict) is rolled back alone and its error goes to its caller, as with
a transaction of its own. A retry runs alone, in a transaction of its own.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from ippproxy.accounting.groupcommit import group_commit

T = TypeVar("T")
RETRYABLE_SQLSTATES = {"40001", "40P01", "55P03"}


def _retryable(exc: DBAPIError) -> bool:
    state = getattr(exc.orig, "sqlstate", None)
    if state in RETRYABLE_SQLSTATES:
        return True
    return isinstance(exc, OperationalError) and "database is locked" in str(exc.orig)


def in_transaction(engine: Engine, work: Callable[[Connection], T], *,
                   attempts: int = 20) -> T:
    """``work(conn)`` inside ``engine.begin()``; retried as described above."""
    integrity_retries = 1
    group = group_commit(engine)
    for attempt in range(attempts):
        try:
            if attempt == 0 and group is not None:
                return group.run(work)
            with engine.begin() as conn:
                return work(conn)
        except IntegrityError:
            if integrity_retries == 0:
                raise
            integrity_retries -= 1
        except DBAPIError as exc:
            if not _retryable(exc) or attempt == attempts - 1:
                raise
            time.sleep(random.uniform(0, 0.005 * (2 ** min(attempt, 6))))
    raise AssertionError("unreachable")  # pragma: no cover
