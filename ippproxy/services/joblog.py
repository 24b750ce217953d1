"""One INFO line per job event in the server's log, with accounting on or off.

    job received: queue=office job-id=12 user=jane pages=3 cost=0.30 EUR
    job sent: queue=office job-id=12 user=jane pages=3 cost=0.30 EUR
    job completed: queue=office job-id=12 user=jane pages=3 cost=0.30 EUR

Theory of operation: :class:`JobLog` is a ``JobNotifier`` (the server tells it a job of
this node changed) that reads the store's recent changes (``JobReports.change_keys``, as
the dashboard's ``JobFeed`` does) and logs each (job, state) once: received, held,
pending (released or retried), sent (``processing``), stopped, completed, canceled,
aborted. A state the job went through between two looks is logged all the same, in
order: its arrival, and ``sent`` for a job that ended (or stopped) after it went
processing (``processing_at``, kept with the job; a forwarder that sends and completes a
job between two looks must not hide the send). Only this node's jobs are logged
(``jobs.node``); a node sharing the database logs its own. A wake-up reads at most once
per ``min_gap``, so a busy intake is logged in batches, and after a look that read many
changes the next waits one ``overlap`` (lookgap.py). With a log level above INFO it
reads nothing. With ``--log-format json`` the fields are keys of the record
(``extra={"fields": ...}``, ippproxy/logformat.py). The cost is what accounting holds for
the job (reserved, then charged); none without accounting.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Callable

from ippproxy.jobs.reports import JobReports, JobSummary
from ippproxy.jobs.state import JobState
from ippproxy.services.lookgap import BUSY_KEYS, LookGap
from ippproxy.services.seenkeys import SeenKeys

from .events import EventKind, job_event_kind

log = logging.getLogger("ippproxy.joblog")

WORDS = {EventKind.JOB_RECEIVED: "received", EventKind.JOB_HELD: "held",
         EventKind.JOB_PENDING: "pending", EventKind.JOB_PRINTING: "sent",
         EventKind.JOB_STOPPED: "stopped", EventKind.JOB_PRINTED: "completed",
         EventKind.JOB_CANCELED: "canceled", EventKind.JOB_ABORTED: "aborted"}

Prices = Callable[[list[str]], Awaitable[dict[str, str]]]
# States only reached through processing: a job seen in one was sent.
_AFTER_SENDING = frozenset({JobState.COMPLETED, JobState.PROCESSING_STOPPED,
                            JobState.CANCELED, JobState.ABORTED})


class JobLog:
    def __init__(self, reports: JobReports, node: str | None, prices: Prices | None = None,
                 *, interval: float = 2.0, min_gap: float = 0.2,
                 overlap: dt.timedelta = dt.timedelta(seconds=1),
                 remember: int = 50000, busy_keys: int = BUSY_KEYS) -> None:
        self.reports, self.node, self.prices = reports, node, prices
        self.interval, self.min_gap, self.overlap = interval, min_gap, overlap
        self.gap = LookGap(min_gap, overlap, busy_keys)
        self.keys_read = 0   # in the last look
        self._seen = SeenKeys(remember)
        self._wake = asyncio.Event()
        self._cursor = self._started = dt.datetime.now(dt.UTC)

    def job_changed(self, job_uuid: str) -> None:
        self._wake.set()

    async def run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.interval):
                    await self._wake.wait()
            self._wake.clear()
            try:
                await self.poll()
            except Exception:    # a failed read: the next poll reaches back for it
                log.exception("job log: reading recent changes failed")
            await asyncio.sleep(self.gap.after(self.keys_read))

    async def poll(self) -> int:
        """Log what changed since the last look; returns how many lines it wrote. While
        the log takes no INFO line (``--log-level warning``) nothing is read, and what
        changes meanwhile is never logged."""
        if not log.isEnabledFor(logging.INFO):
            self._cursor = self._started = dt.datetime.now(dt.UTC)
            self.keys_read = 0
            return 0
        keys = await self.reports.change_keys(self._cursor - self.overlap, 10000)
        self.keys_read = len(keys)
        new = [k for k in keys if k.updated_at >= self._started
               and (k.uuid, k.state) not in self._seen]
        if keys:
            self._cursor = max(self._cursor, keys[-1].updated_at)
        if not new:
            return 0
        jobs = await self.reports.summaries(list(dict.fromkeys(k.uuid for k in new)))
        mine = {u: j for u, j in jobs.items() if (j.node or None) == self.node}
        costs = await self.prices(list(mine)) if self.prices and mine else {}
        written = 0
        for key in new:
            job = mine.get(key.uuid)
            if job is None or not self._seen.first((key.uuid, key.state)):
                continue
            kind = job_event_kind(key.state, job.created_at, key.updated_at)
            if kind != EventKind.JOB_RECEIVED and self._seen.first((key.uuid, 0)) \
                    and job.created_at >= self._started:
                # seen first after it moved on: its arrival is logged all the same
                written += self._line(EventKind.JOB_RECEIVED, job, costs.get(job.uuid))
            elif kind == EventKind.JOB_RECEIVED and not self._seen.first((key.uuid, 0)):
                continue
            if key.state in _AFTER_SENDING and job.processing_at is not None \
                    and job.processing_at >= self._started \
                    and self._seen.first((key.uuid, int(JobState.PROCESSING))):
                # it went processing between two looks: the send is logged all the same
                written += self._line(EventKind.JOB_PRINTING, job, costs.get(job.uuid))
            written += self._line(kind, job, costs.get(job.uuid))
        return written

    @staticmethod
    def _line(kind: EventKind, job: JobSummary, cost: str | None) -> int:
        word = WORDS.get(kind, "changed")
        fields = {"event": word, "queue": job.queue, "job_id": job.job_id,
                  "user": job.owner, "pages": job.pages, "cost": cost}
        log.info("job %s: queue=%s job-id=%d user=%s pages=%s cost=%s", word, job.queue,
                 job.job_id, job.owner, "?" if job.pages is None else job.pages,
                 cost or "none", extra={"fields": fields})
        return 1

