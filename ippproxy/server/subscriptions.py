"""Event subscriptions with the ippget pull method (RFC 3995, RFC 3996): the job events.

Theory of operation
-------------------
Subscriptions and their numbered events are kept in the job store
(``ippproxy/jobs/subscriptions.py``), shared by every node (process) on the database.
Printer events are posted there by the operation that causes them (Pause-Printer...).
Job events are not posted by the operations: a job is printed, canceled or aborted by
any node's forwarder, intake or admin page, so :class:`Subscriptions` derives them from
the shared store, as the admin dashboard's ``services.events.JobFeed`` does. While some
subscription is live anywhere, it polls the store for rows changed since its cursor
(``JobReports.change_keys``, index ``ix_jobs_updated_at``), reaching back ``overlap``
before it (clocks of nodes differ, commits land out of order), and turns each new
(job, state) into an event:

* ``job-created`` for a job first seen (whatever its state: it may have printed between
  two looks) by subscriptions made by the time the job was;
* ``job-completed`` when the job reached a terminal state;
* ``job-state-changed`` for any other new state (a job first seen pending or held is
  announced by its job-created alone).

Every node's feed does this; the store's dedup key (``origin``: the job and its state)
makes the events of one change one event, numbered once. A job that enters a state it
was in before (a retried send back to pending) is not announced twice. This node's job
changes wake the poll (``job_changed``, from the server's ``JobNotifier``), other
nodes' are seen within ``interval``; while no subscription is live it only asks the
store about once per ``idle_check``. Get-Notifications first runs one poll itself
(:meth:`catch_up`), so the answer holds what any node did until then.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import uuid

from ippproxy.ipp import Attribute
from ippproxy.jobs.reports import ChangeKey, Cursor, JobSummary
from ippproxy.jobs.state import JobState, is_terminal
from ippproxy.jobs.store import JobStore
from ippproxy.jobs.subscriptions import (
    EVENT_LIFE,
    MAX_EVENTS,
    Event,
    Happening,
    Subscription,
    SubscriptionStore,
)
from ippproxy.server import attrs as A
from ippproxy.services.lookgap import LookGap
from ippproxy.services.seenkeys import SeenKeys

log = logging.getLogger(__name__)

EVENTS = ("job-completed", "job-created", "job-state-changed", "printer-state-changed",
          "printer-stopped")
DEFAULT_EVENTS = ("job-completed",)
DEFAULT_LEASE = 86400
MAX_LEASE = 67108863
GET_INTERVAL = 30
CREATED = 0          # the seen-key of a job's arrival (no job-state has this value)
_FIRST_STATES = (JobState.PENDING, JobState.PENDING_HELD)


class Subscriptions:
    """The job events from the shared store (see the module docstring); ``store`` holds
    the subscriptions themselves."""

    def __init__(self, jobs: JobStore, *, interval: float = 0.8, min_gap: float = 0.2,
                 idle_check: float = 1.0, overlap: dt.timedelta = dt.timedelta(seconds=2),
                 batch: int = 1000, remember: int = 50000, expire_every: float = 30.0
                 ) -> None:
        self.store: SubscriptionStore = jobs.subscriptions
        self.reports, self.clock = jobs.reports, jobs.clock
        self.interval, self.min_gap, self.idle_check = interval, min_gap, idle_check
        self.overlap, self.batch, self.expire_every = overlap, batch, expire_every
        self.gap, self.keys_read = LookGap(min_gap, overlap), 0   # (read by the last look)
        self._seen = SeenKeys(remember)
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()
        self._cursor = self.clock()
        self._live = False

    @staticmethod
    def printer_attributes() -> list[Attribute]:
        return [
            A.keyword("notify-events-default", *DEFAULT_EVENTS),
            A.keyword("notify-events-supported", *EVENTS),
            A.integer("notify-lease-duration-default", DEFAULT_LEASE),
            A.range_("notify-lease-duration-supported", 0, MAX_LEASE),
            A.integer("notify-max-events-supported", MAX_EVENTS),
            A.keyword("notify-pull-method-supported", "ippget"),
            A.integer("ippget-event-life", EVENT_LIFE),
        ]

    async def printer_event(self, queue: str, event: str) -> None:
        """A printer event (RFC 3995 §5.3.3.4) caused by an operation of this node."""
        await self.store.post([Happening(event, queue, f"{queue}: {event}",
                                         f"printer {uuid.uuid4()}", self.clock())])

    def job_changed(self, job_uuid: str) -> None:
        """JobNotifier: a job of this node changed; look now rather than at the next tick."""
        if self._live:
            self._wake.set()

    async def run(self) -> None:
        expired = asyncio.get_running_loop().time()
        while True:
            try:
                live = await self.catch_up()
            except Exception:       # a failed read: the next poll reaches back for it
                log.exception("ipp subscriptions: reading recent job changes failed")
                live = self._live
            if not live:
                await asyncio.sleep(self.idle_check)
                continue
            now = asyncio.get_running_loop().time()
            if now - expired >= self.expire_every:
                expired = now
                with contextlib.suppress(Exception):
                    await self.store.expire()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.interval):
                    await self._wake.wait()
            self._wake.clear()
            # A busy intake is read in batches, each change at most twice (lookgap.py).
            await asyncio.sleep(self.gap.after(self.keys_read))

    async def catch_up(self) -> bool:
        """One poll, if some subscription is live (on any node); says whether one is."""
        since = await self.store.live_since()
        if since is None:
            self._live = False
            return False
        async with self._lock:
            if not self._live:
                # Changes made before every live subscription concern none of them.
                self._cursor = max(self._cursor, since)
                self._live = True
            await self._poll()
        return True

    async def _poll(self) -> None:
        after: Cursor | None = None
        since = self._cursor - self.overlap
        self.keys_read = 0
        while True:
            keys = await self.reports.change_keys(since, self.batch, after)
            self.keys_read += len(keys)
            new = [k for k in keys if (k.uuid, k.state) not in self._seen]
            jobs = await self.reports.summaries([k.uuid for k in new]) if new else {}
            happenings: list[Happening] = []
            for key in new:
                job = jobs.get(key.uuid)
                if job is not None:
                    happenings += self._happenings(job, key)
            await self.store.post(happenings)
            if keys:
                self._cursor = max(self._cursor, keys[-1].updated_at)
                after = Cursor(keys[-1].updated_at, keys[-1].uuid)
            if len(keys) < self.batch:
                return

    def _happenings(self, job: JobSummary, key: ChangeKey) -> list[Happening]:
        out: list[Happening] = []
        first = self._seen.first((job.uuid, CREATED))
        if first:
            out.append(_job(job, key.state, "job-created", job.created_at))
        if not self._seen.first((job.uuid, key.state)):
            return out
        if first and key.state in _FIRST_STATES:
            return out
        event = "job-completed" if is_terminal(key.state) else "job-state-changed"
        return [*out, _job(job, key.state, event, key.updated_at)]


def _job(job: JobSummary, state: int, event: str, at: dt.datetime) -> Happening:
    origin = f"{job.uuid} {event}" if event == "job-created" else f"{job.uuid} {state}"
    return Happening(event, job.queue, f"job {job.job_id}: {event}", origin, at, job.job_id,
                     state, job.reasons or ("none",))


def octets(value: object) -> bytes | None:
    if isinstance(value, bytes):
        return value[:63]
    if isinstance(value, str):
        return value.encode()[:63]
    return None


__all__ = ["DEFAULT_EVENTS", "DEFAULT_LEASE", "EVENTS", "EVENT_LIFE", "GET_INTERVAL",
           "MAX_LEASE", "Event", "Subscription", "Subscriptions", "octets"]
