"""Settlement: a finished job's charge is settled once, or refunded if nothing printed.

Theory of operation
-------------------
The :class:`Settler` is told about jobs that may have changed (``job_changed(uuid)``: the
server calls it on every state change, the Forwarder when it is done with a job). One
background task takes those job UUIDs in turn; for a job in a terminal state it calls
``AccountingService.settle`` with the outcome and the impressions:

* the destination's ``job-impressions-completed`` when it reported one (RFC 8011
  §5.3.18; ``accounting.trust_printer_counts`` decides whose count prices the job);
* ``0`` for a job canceled or aborted before it reached a printer (never forwarded,
  or no remote job): the whole charge is refunded automatically;
* unknown (``None``) otherwise: our own count is charged.

``settle`` is idempotent (keyed by job UUID), so duplicate notifications, restarts and
several nodes never charge twice. What was charged is written back into the job's
analysis (``ippproxy-cost-charged``) for Get-Job-Attributes.

A sweep every ``accounting.settle_interval`` seconds (and once at start) finds charges
still ``reserved`` whose job is terminal (a notification lost to a crash) and
reservations whose job row never appeared (the server failed between reserving and
committing the job): those are refunded after ``orphan_age``.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from typing import Any

from ippproxy.accounting import AccountingService, Charge, NotFound, Outcome
from ippproxy.jobs.records import JobRecord
from ippproxy.jobs.state import JobState
from ippproxy.jobs.store import JobStore

log = logging.getLogger(__name__)
_OUTCOME = {JobState.COMPLETED: Outcome.COMPLETED, JobState.CANCELED: Outcome.CANCELED,
            JobState.ABORTED: Outcome.ABORTED}


def impressions_for(job: JobRecord) -> int | None:
    """The impressions to settle with (see the module docstring)."""
    if job.impressions_completed is not None:
        return job.impressions_completed
    if job.state != JobState.COMPLETED and not job.forward_started and job.remote_job_id is None:
        return 0
    return None


class Settler:
    def __init__(self, accounting: AccountingService, store: JobStore, *,
                 interval: float = 30.0, orphan_age: dt.timedelta = dt.timedelta(minutes=10)
                 ) -> None:
        self.accounting = accounting
        self.store = store
        self.interval = interval
        self.orphan_age = orphan_age
        self._pending: dict[str, None] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.settled = 0  # settlements that changed something (metrics, tests)

    # -- JobNotifier ---------------------------------------------------------------------
    def job_changed(self, job_uuid: str) -> None:
        self._pending[job_uuid] = None
        self._wake.set()

    # -- lifecycle -----------------------------------------------------------------------
    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="settler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_sweep = loop.time()
        while True:
            if loop.time() >= next_sweep:
                try:
                    await self.sweep()
                except Exception:
                    log.exception("settlement sweep")
                next_sweep = loop.time() + self.interval
            while self._pending:
                job_uuid = next(iter(self._pending))
                del self._pending[job_uuid]
                try:
                    await self.settle_job(job_uuid)
                except Exception:  # the sweep retries it
                    log.exception("settling job %s", job_uuid)
            self._wake.clear()
            if self._pending:
                continue
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(0.0, next_sweep - loop.time())):
                    await self._wake.wait()

    # -- work ----------------------------------------------------------------------------
    async def settle_job(self, job_uuid: str) -> Charge | None:
        """Settle one job if it is terminal and has a charge; None otherwise."""
        job = await self.store.get_by_uuid(job_uuid)
        if job is None or not job.is_terminal:
            return None
        impressions = impressions_for(job)
        try:
            charge = await asyncio.to_thread(self.accounting.settle, job_uuid,
                                             _OUTCOME[job.state], impressions)
        except NotFound:
            return None  # a free job: nothing was reserved
        if not charge.replayed:
            self.settled += 1
            log.info("job %s %s: %s %s (impressions %s)", job_uuid, job.state.keyword,
                     charge.state, self.accounting.money(charge.charged), impressions)
        await self._record(job, charge)
        return charge

    async def _record(self, job: JobRecord, charge: Charge) -> None:
        analysis: dict[str, Any] = dict(job.analysis or {})
        attributes = dict(analysis.get("attributes") or {})
        text = self.accounting.money(charge.charged)
        if attributes.get("ippproxy-cost-charged") == text:
            return
        attributes["ippproxy-cost-charged"] = text
        analysis.update(attributes=attributes, charged=charge.charged,
                        charge_state=str(charge.state))
        await self.store.set_counts(job.uuid, analysis=analysis)

    async def sweep(self) -> int:
        """Settle reserved charges of finished jobs; refund orphans. Returns how many."""
        done = 0
        now = dt.datetime.now(dt.UTC)
        for job_uuid, created in await asyncio.to_thread(self.accounting.reserved_charges):
            job = await self.store.get_by_uuid(str(job_uuid))
            if job is None:
                if created.tzinfo is None:
                    created = created.replace(tzinfo=dt.UTC)
                if now - created > self.orphan_age:
                    await asyncio.to_thread(self.accounting.settle, job_uuid,
                                            Outcome.ABORTED, 0)
                    log.warning("job %s was never stored: its charge is refunded", job_uuid)
                    done += 1
            elif job.is_terminal and await self.settle_job(job.uuid) is not None:
                done += 1
        return done


class FanOut:
    """One ``JobNotifier`` for several listeners (the Forwarder and the Settler)."""

    def __init__(self, *listeners: Any) -> None:
        self.listeners = listeners

    def job_changed(self, job_uuid: str) -> None:
        for listener in self.listeners:
            listener.job_changed(job_uuid)
