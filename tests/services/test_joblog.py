"""The job-event log (services/joblog.py) on a real job store: a job that goes through
states between two looks still logs every one of them, in order, once."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ippproxy.db import make_engine, upgrade
from ippproxy.jobs.state import JobEvent
from ippproxy.jobs.store import JobStore
from ippproxy.services.joblog import JobLog


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[JobStore]:
    engine = make_engine(f"sqlite:///{tmp_path / 'jobs.db'}")
    upgrade(engine)
    async with JobStore(engine, node=None) as s:
        yield s
    engine.dispose()


def _events(caplog: pytest.LogCaptureFixture, job_id: int) -> list[str]:
    out = []
    for r in caplog.records:
        m = re.match(r"job (\w+): queue=q job-id=(\d+) ", r.getMessage())
        if r.name == "ippproxy.joblog" and m and int(m.group(2)) == job_id:
            out.append(m.group(1))
    return out


async def test_a_job_sent_and_completed_between_two_looks_logs_every_state(
        store: JobStore, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="ippproxy.joblog")
    joblog = JobLog(store.reports, None)
    job = await store.create_job("q", owner="alice")
    await store.transition(job.uuid, JobEvent.START)
    await store.transition(job.uuid, JobEvent.COMPLETE)
    assert await joblog.poll() == 3
    assert _events(caplog, job.job_id) == ["received", "sent", "completed"]
    assert await joblog.poll() == 0                    # nothing twice


async def test_each_state_seen_by_a_look_is_logged_once(
        store: JobStore, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="ippproxy.joblog")
    joblog = JobLog(store.reports, None)
    job = await store.create_job("q", owner="alice")
    await joblog.poll()
    await store.transition(job.uuid, JobEvent.START)
    await joblog.poll()
    await store.transition(job.uuid, JobEvent.COMPLETE)
    await joblog.poll()
    canceled = await store.create_job("q", owner="bob")
    await store.transition(canceled.uuid, JobEvent.CANCEL)
    await joblog.poll()
    assert _events(caplog, job.job_id) == ["received", "sent", "completed"]
    assert _events(caplog, canceled.job_id) == ["received", "canceled"]   # never sent


class _Counting:
    """The store's reports, counting the reads."""

    def __init__(self, reports: object) -> None:
        self.reports, self.reads = reports, 0

    def __getattr__(self, name: str) -> object:
        self.reads += 1
        return getattr(self.reports, name)


async def test_a_log_without_info_lines_reads_nothing(
        store: JobStore, caplog: pytest.LogCaptureFixture) -> None:
    """``--log-level warning``: no look at the store for lines nobody keeps, and what
    changed meanwhile is not logged later."""
    caplog.set_level(logging.WARNING, logger="ippproxy.joblog")
    reports = _Counting(store.reports)
    joblog = JobLog(reports, None)  # type: ignore[arg-type]
    before = await store.create_job("q", owner="alice")
    assert await joblog.poll() == 0
    assert reports.reads == 0
    caplog.set_level(logging.INFO, logger="ippproxy.joblog")
    after = await store.create_job("q", owner="bob")
    assert await joblog.poll() == 1
    assert _events(caplog, after.job_id) == ["received"]
    assert _events(caplog, before.job_id) == []


def _next(joblog: JobLog) -> float:
    return joblog.gap.after(joblog.keys_read)


async def test_a_busy_look_waits_for_the_overlap_before_the_next(
        store: JobStore, caplog: pytest.LogCaptureFixture) -> None:
    """Every look re-reads the last ``overlap`` of changes: after one that read many
    (``busy_keys``), the next waits ``overlap`` rather than ``min_gap``, so that a busy
    server reads each change at most twice, not ``overlap / min_gap + 1`` times."""
    caplog.set_level(logging.INFO, logger="ippproxy.joblog")
    joblog = JobLog(store.reports, None, min_gap=0.2, busy_keys=3)
    assert _next(joblog) == 0.2
    await store.create_job("q", owner="alice")
    assert await joblog.poll() == 1
    assert (joblog.keys_read, _next(joblog)) == (1, 0.2)    # quiet: soon again
    for owner in ("bob", "carol", "dave"):
        await store.create_job("q", owner=owner)
    assert await joblog.poll() == 3
    assert (joblog.keys_read, _next(joblog)) == (4, 1.0)    # busy: one overlap
    caplog.set_level(logging.WARNING, logger="ippproxy.joblog")
    assert await joblog.poll() == 0
    assert _next(joblog) == 0.2                             # read nothing
