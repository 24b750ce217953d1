"""On SQLite the owner of a job is read on the event loop's thread (metering.py
``nowait``), never waiting there for a lock."""

from __future__ import annotations

import threading

import pipeline_docs as docs
from conftest import build, config, submission
from sqlalchemy import Engine, event
from sqlalchemy.exc import OperationalError

from ippproxy.db.engine import nowait_reader
from ippproxy.filters.pool import AnalysisPool
from ippproxy.jobs.spool import Spool
from ippproxy.jobs.state import JobState
from ippproxy.jobs.store import JobStore


def _recording_threads(p: object) -> list[int]:
    """Wrap the accounting's live_groups to note the thread of every call."""
    accounting = p.accounting  # type: ignore[attr-defined]
    threads: list[int] = []
    real = accounting.live_groups

    def live_groups(*args: object, **kwargs: object) -> object:
        threads.append(threading.get_ident())
        return real(*args, **kwargs)

    accounting.live_groups = live_groups
    return threads


async def test_the_owner_is_read_on_the_loops_thread(
        engine: Engine, store: JobStore, spool: Spool, pool: AnalysisPool) -> None:
    p = build(config(), engine, store, spool, pool)
    await p.intake.print_job(submission(docs.pdf_bytes([True])))   # dave created
    threads = _recording_threads(p)
    job = (await p.intake.print_job(submission(docs.pdf_bytes([True])))).job
    assert job.state == JobState.PENDING
    assert threads == [threading.get_ident()]


async def test_a_locked_database_is_read_in_a_thread(
        engine: Engine, store: JobStore, spool: Spool, pool: AnalysisPool) -> None:
    """The read on the loop fails at once on a locked database (its busy timeout is 0:
    tests/db/test_engine_pool.py); it is made again in a thread, which may wait."""
    p = build(config(), engine, store, spool, pool)
    await p.intake.print_job(submission(docs.pdf_bytes([True])))   # dave created
    threads = _recording_threads(p)
    metering = p.intake.metering
    assert metering is not None and metering.nowait is not None

    @event.listens_for(metering.nowait, "begin")
    def locked(conn: object) -> None:
        raise OperationalError("BEGIN DEFERRED", {}, Exception("database is locked"))

    job = (await p.intake.print_job(submission(docs.pdf_bytes([True])))).job
    assert job.state == JobState.PENDING
    assert len(threads) == 2 and threads[0] == threading.get_ident() != threads[1]


def test_no_nowait_reader_for_postgresql_or_memory() -> None:
    from sqlalchemy import create_engine
    assert nowait_reader(create_engine("sqlite://")) is None
    assert nowait_reader(create_engine("postgresql+psycopg://u@localhost/db")) is None


async def test_the_reader_keeps_one_connection_and_survives_a_lock(
        engine: Engine, store: JobStore, spool: Spool, pool: AnalysisPool) -> None:
    """Connecting costs more than the read: one connection serves every job's read. A
    read that failed on a lock gives it back (its pool rolls back whatever the failure
    left open) and the next job's read takes one again."""
    p = build(config(), engine, store, spool, pool)
    metering = p.intake.metering
    assert metering is not None and metering.nowait is not None
    checkouts: list[object] = []
    event.listen(metering.nowait, "checkout", lambda *a: checkouts.append(a))
    await p.intake.print_job(submission(docs.pdf_bytes([True])))   # dave created
    threads = _recording_threads(p)
    fail = [True]

    @event.listens_for(metering.nowait, "begin")
    def locked_once(conn: object) -> None:
        if fail and fail.pop():
            raise OperationalError("BEGIN DEFERRED", {}, Exception("database is locked"))

    for _ in range(4):
        job = (await p.intake.print_job(submission(docs.pdf_bytes([True])))).job
        assert job.state == JobState.PENDING
    loop = threading.get_ident()
    # the first job's read failed on the loop and went to a thread; the others read on it
    assert threads[0] == loop != threads[1] and threads[2:] == [loop] * 3
    assert len(checkouts) == 2
