"""Settlement: a finished job's charge is settled once, or refunded if nothing printed.

Theory of operation
-------------------
The :class:`Settler` is told about jobs that may have changed (``job_changed(uuid)``: the
server calls it on every state change, the Forwarder when it is done with a job). One
background task takes those job UUIDs a page at a time and reads their states in one
statement (most changes are not to a terminal state), at most once per ``min_gap`` (a busy
intake tells it of every job it creates: one read for each would be a read a job); for a
job in a terminal state it reads the job and calls ``AccountingService.settle`` with the
outcome and the impressions:

* the destination's ``job-impressions-completed`` when it reported one (RFC 8011
  §5.3.18; ``accounting.trust_printer_counts`` decides whose count prices the job);
* ``0`` for a job canceled or aborted before it reached a printer (never forwarded,
  or no remote job): the whole charge is refunded automatically;
* unknown (``None``) otherwise: our own count is charged.

``settle`` is idempotent (keyed by job UUID), so duplicate notifications, restarts and
several nodes never charge twice. What was charged is written back into the job's
analysis (``ippproxy-cost-charged``) for Get-Job-Attributes, and then the charge is
marked ``recorded``, in batches (``RECORDED_BATCH``, each sweep, and at stop).

A sweep every ``accounting.settle_interval`` seconds (and once at start) repairs what a
crash left behind:

* charges still ``reserved`` whose job is terminal (a notification lost): settled;
* reservations whose job row never appeared (the server stopped between reserving and
  committing the job: an orphan). The charge knows the node that reserved it. A node's
  own orphans from before its start are refunded by its first sweep, with the reason
  "job never created: server stopped during intake"; another node's (or a reservation
  of this process that is still without a job) only when it is older than
  ``accounting.orphan_lease``, since that node may still be committing the job;
* charges settled or refunded but not ``recorded`` (a crash between the settlement's
  commit and the job's write-back): the amount is written into the job now.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import itertools
import logging
from collections.abc import AsyncIterator
from typing import Any

from ippproxy.accounting import (
    AccountingService,
    Charge,
    ChargeState,
    NotFound,
    Outcome,
    Reservation,
)
from ippproxy.jobs.records import JobRecord
from ippproxy.jobs.state import JobState, is_terminal
from ippproxy.jobs.store import JobStore

log = logging.getLogger(__name__)
# Charges written back are marked recorded this many at a time (and at each sweep and at
# stop): one small write for many jobs; a crash before it costs the next sweep a re-check.
RECORDED_BATCH = 100
SWEEP_PAGE = 1000  # reserved charges read at a time by the sweep
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
                 interval: float = 30.0, node: str = "",
                 orphan_lease: dt.timedelta = dt.timedelta(seconds=60),
                 min_gap: float = 0.1) -> None:
        self.accounting = accounting
        self.store = store
        self.interval = interval
        self.min_gap = min_gap
        self.node = node
        self.orphan_lease = orphan_lease
        # Reservations of this node from before this moment have no intake in flight.
        self.started = dt.datetime.now(dt.UTC)
        self._pending: dict[str, None] = {}
        self._recorded: list[str] = []  # written back, not yet marked
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
        try:
            await self.flush_recorded()
        except Exception:  # the next start's sweep checks them again
            log.exception("marking charges recorded")

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
            if self._pending:
                while self._pending:
                    await self._settle_pending()
                await asyncio.sleep(self.min_gap)   # what is told meanwhile: one read
            if len(self._recorded) >= RECORDED_BATCH:
                try:
                    await self.flush_recorded()
                except Exception:  # the sweep finds them unrecorded and checks again
                    log.exception("marking charges recorded")
            self._wake.clear()
            if self._pending:
                continue
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(0.0, next_sweep - loop.time())):
                    await self._wake.wait()

    # -- work ----------------------------------------------------------------------------
    async def _settle_pending(self) -> None:
        """The jobs told of so far, a page at a time: their states in one statement, and
        only the terminal ones read whole and settled (every change of every job is told,
        most of them not to a terminal state, and a whole read of each was most of its cost)."""
        batch = list(itertools.islice(self._pending, SWEEP_PAGE))
        for job_uuid in batch:
            del self._pending[job_uuid]
        try:
            states = await self.store.states_of(batch)
        except Exception:  # the sweep finds their charges still reserved
            log.exception("reading the states of %d job(s) to settle", len(batch))
            return
        for job_uuid in batch:
            state = states.get(job_uuid)
            if state is None or not is_terminal(state):
                continue
            try:
                await self.settle_job(job_uuid)
            except Exception:  # the sweep retries it
                log.exception("settling job %s", job_uuid)

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
            money = self.accounting.money
            back = charge.estimate - charge.charged
            log.info("job %s %s: %s, charged %s of %s reserved%s (impressions %s)", job_uuid,
                     job.state.keyword, charge.state, money(charge.charged),
                     money(charge.estimate), f", {money(back)} given back" if back > 0 else "",
                     impressions)
        await self._record(job, charge)
        return charge

    async def _record(self, job: JobRecord, charge: Charge) -> None:
        """The final amount into the job (Get-Job-Attributes), then marked recorded."""
        analysis: dict[str, Any] = dict(job.analysis or {})
        attributes = dict(analysis.get("attributes") or {})
        text = self.accounting.money(charge.charged)
        if attributes.get("ippproxy-cost-charged") != text:
            attributes["ippproxy-cost-charged"] = text
            analysis.update(attributes=attributes, charged=charge.charged,
                            charge_state=str(charge.state))
            await self.store.set_counts(job.uuid, analysis=analysis)
        if charge.state != ChargeState.RESERVED:
            self._recorded.append(job.uuid)

    async def flush_recorded(self) -> None:
        """Mark the charges written back since the last flush (one transaction)."""
        batch, self._recorded = self._recorded, []
        if batch:
            try:
                await asyncio.to_thread(self.accounting.mark_recorded, batch)
            except BaseException:
                self._recorded[:0] = batch
                raise

    def _orphan_reason(self, r: Reservation, now: dt.datetime) -> str | None:
        """Why the reservation ``r`` without a job is refunded now; None: not yet."""
        own = r.node == self.node or (r.node is None and not self.node)
        if own and r.created_at < self.started:
            who = f"node {self.node!r}" if self.node else "server"
            return f"job never created: {who} stopped during intake; automatic refund"
        if now - r.created_at > self.orphan_lease:
            who = "this node" if own else f"node {r.node!r}" if r.node else "a node"
            return (f"job never created: {who} did not store it within "
                    f"{self.orphan_lease.total_seconds():g} s of the reservation "
                    "(orphan lease); automatic refund")
        return None

    async def _reservations(self) -> AsyncIterator[list[Reservation]]:
        """Every charge still reserved, oldest first, page by page (held jobs keep theirs
        reserved for long: an orphan behind a thousand of them is still found)."""
        after: Reservation | None = None
        while True:
            page = await asyncio.to_thread(self.accounting.reserved_charges,
                                           SWEEP_PAGE, after)
            if page:
                yield page
            if len(page) < SWEEP_PAGE:
                return
            after = page[-1]

    async def _orphan(self, r: Reservation, now: dt.datetime) -> int:
        """Refund a reservation whose job never appeared, once it is due (1: refunded)."""
        reason = self._orphan_reason(r, now)
        if reason is None:
            return 0
        charge = await asyncio.to_thread(self.accounting.release, r.job_uuid, reason)
        if charge.replayed:
            return 0
        log.warning("job %s was never stored: %s refunded (%s)", r.job_uuid,
                    self.accounting.money(charge.estimate), reason)
        return 1

    async def sweep(self) -> int:
        """Settle reserved charges of finished jobs, refund orphans, write missing amounts
        into jobs (module docstring). Returns how many charges it changed or repaired."""
        done = 0
        now = dt.datetime.now(dt.UTC)
        await self.flush_recorded()
        async for page in self._reservations():
            # One statement for the page's job states: a job held for release keeps its
            # charge reserved, and reading each such job whole every sweep grew with the
            # held jobs (benchmarks/bench_held_idle.py).
            states = await self.store.states_of([str(r.job_uuid) for r in page])
            for r in page:
                state = states.get(str(r.job_uuid))
                if state is None:
                    done += await self._orphan(r, now)
                elif is_terminal(state) and await self.settle_job(str(r.job_uuid)) is not None:
                    done += 1
        for job_uuid in await asyncio.to_thread(self.accounting.unrecorded_charges):
            job = await self.store.get_by_uuid(str(job_uuid))
            final = None if job is None else await asyncio.to_thread(self.accounting.get,
                                                                     job_uuid)
            if job is None or final is None:
                self._recorded.append(str(job_uuid))  # purged: nothing to show it on
                continue
            before = (job.analysis or {}).get("attributes", {}).get("ippproxy-cost-charged")
            await self._record(job, final)
            if before != self.accounting.money(final.charged):
                log.warning("job %s: its charged amount was missing; written now", job.uuid)
                done += 1
        await self.flush_recorded()
        return done


class FanOut:
    """One ``JobNotifier`` for several listeners (the Forwarder and the Settler)."""

    def __init__(self, *listeners: Any) -> None:
        self.listeners = listeners

    def job_changed(self, job_uuid: str) -> None:
        for listener in self.listeners:
            listener.job_changed(job_uuid)
