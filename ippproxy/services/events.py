"""Live activity for the admin dashboard: an in-process event hub and what feeds it.

Theory of operation
-------------------
:class:`EventHub` fans events out to subscribers (one per open dashboard, ``GET
/admin/events``). Publishing never waits: each subscriber has a bounded queue and, when
it is full (a slow page, a stalled connection), the oldest events are dropped and the
subscriber is told how many it missed (an ``events-dropped`` event). Intake therefore
never slows down for an admin page; an event is serialised once, whatever the number
of subscribers.

Three sources feed it:

* **Jobs**, by :class:`JobFeed`: it polls the job store for rows changed since its last
  look (``JobReports.change_keys``, index ``ix_jobs_updated_at``) and turns each new
  (job, state) into an event: received, held, printing, printed, canceled, aborted.
  Reading the shared store rather than hooking this process is what makes several nodes
  work: every node streams the changes of every node's jobs. This node's own changes
  wake the poll (``job_changed``, the server's ``JobNotifier``; at most one look per
  ``min_gap``, so a busy intake is read in batches), other nodes' are seen within
  ``interval``. Each poll reaches back ``overlap`` before its cursor
  (clocks of nodes differ, commits land out of order) and a (job, state) already
  published is skipped. The feed only polls while someone subscribes.
* **Denials**, published by the intake hook (``job_denied``): a denied job is never
  stored, so only the node that refused it knows; this node's pages see it.
* **Printers**, by ``printer_watch.PrinterWatch``: while someone subscribes it reads each queue's
  destination state (``printer-state-reasons``, RFC 8011 §5.4.12; the capabilities
  cache refreshes it) and publishes what appeared or cleared: offline, out of paper
  (``media-empty``, ``media-needed``), other ``-error`` reasons as alerts, back online.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import datetime as dt
import enum
import itertools
import json
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from ippproxy.db.base import utcnow
from ippproxy.jobs.reports import ChangeKey, Cursor, JobReports, JobSummary
from ippproxy.jobs.state import JobState
from ippproxy.services.actor import Access, Actor, Section
from ippproxy.services.errors import Forbidden
from ippproxy.services.lookgap import LookGap
from ippproxy.services.seenkeys import SeenKeys

log = logging.getLogger(__name__)


class EventKind(enum.StrEnum):
    JOB_RECEIVED = "job-received"
    JOB_HELD = "job-held"
    JOB_PENDING = "job-pending"          # released, or back in line after a retry
    JOB_PRINTING = "job-printing"
    JOB_STOPPED = "job-stopped"
    JOB_PRINTED = "job-printed"
    JOB_CANCELED = "job-canceled"
    JOB_ABORTED = "job-aborted"
    JOB_DENIED = "job-denied"
    PRINTER_OFFLINE = "printer-offline"
    PRINTER_ONLINE = "printer-online"
    PRINTER_MEDIA_EMPTY = "printer-media-empty"
    PRINTER_ALERT = "printer-alert"
    CLIENT_UNAVAILABLE = "client-unavailable"   # a job waits for a client nobody runs
    DROPPED = "events-dropped"


_BY_STATE = {JobState.PENDING_HELD: EventKind.JOB_HELD,
             JobState.PROCESSING: EventKind.JOB_PRINTING,
             JobState.PROCESSING_STOPPED: EventKind.JOB_STOPPED,
             JobState.COMPLETED: EventKind.JOB_PRINTED,
             JobState.CANCELED: EventKind.JOB_CANCELED,
             JobState.ABORTED: EventKind.JOB_ABORTED}


# The key under which a job's arrival is remembered (no job-state has this value).
RECEIVED = 0



@dataclass(frozen=True)
class Event:
    seq: int
    kind: EventKind
    at: dt.datetime
    node: str
    queue: str | None = None
    job_id: int | None = None
    user: str | None = None
    message: str = ""
    # The event as one server-sent-events record (HTML Living Standard §9.2.6),
    # made once for every subscriber.
    wire: bytes = field(default=b"", repr=False, compare=False)

    def as_dict(self) -> dict[str, object]:
        return {"seq": self.seq, "kind": str(self.kind), "at": self.at.isoformat(),
                "node": self.node, "queue": self.queue, "job_id": self.job_id,
                "user": self.user, "message": self.message}


class Subscription:
    """One subscriber's bounded queue; :meth:`next_batch` waits for what is queued."""

    def __init__(self, size: int) -> None:
        self._queue: collections.deque[Event] = collections.deque()
        self._size = size
        self._ready = asyncio.Event()
        self.dropped = 0
        self.closed = False

    def close(self) -> None:
        """The server is stopping: the stream ends after what is queued."""
        self.closed = True
        self._ready.set()

    def offer(self, event: Event) -> None:
        if len(self._queue) >= self._size:
            self._queue.popleft()
            self.dropped += 1
        self._queue.append(event)
        self._ready.set()

    async def next_batch(self) -> tuple[list[Event], int]:
        """Every queued event, and how many were dropped since the last batch."""
        await self._ready.wait()
        self._ready.clear()
        batch, dropped = list(self._queue), self.dropped
        self._queue.clear()
        self.dropped = 0
        return batch, dropped


class EventHub:
    def __init__(self, node: str, *, queue_size: int = 4096, keep: int = 50,
                 clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.node = node
        self.queue_size = queue_size
        self.clock = clock
        self._subs: set[Subscription] = set()
        self._seq = itertools.count(1)
        self.recent: collections.deque[Event] = collections.deque(maxlen=keep)
        self.has_subscribers = asyncio.Event()
        self.denied = 0      # jobs denied by this node since it started

    def close(self) -> None:
        for sub in self._subs:
            sub.close()

    @property
    def subscribers(self) -> int:
        return len(self._subs)

    def publish(self, kind: EventKind, *, queue: str | None = None, job_id: int | None = None,
                user: str | None = None, message: str = "") -> Event:
        seq = next(self._seq)
        ev = Event(seq, kind, self.clock(), self.node, queue, job_id, user, message[:500])
        wire = f"id: {seq}\nevent: {kind}\ndata: {json.dumps(ev.as_dict())}\n\n".encode()
        ev = Event(ev.seq, ev.kind, ev.at, ev.node, queue, job_id, user, ev.message, wire)
        self.recent.append(ev)
        for sub in self._subs:
            sub.offer(ev)
        return ev

    def job_denied(self, queue: str, user: str, message: str) -> None:
        """The intake hook: a job refused by a rule (it is never stored)."""
        self.denied += 1
        self.publish(EventKind.JOB_DENIED, queue=queue, user=user, message=message)

    @contextlib.asynccontextmanager
    async def subscribe(self, actor: Actor) -> AsyncIterator[Subscription]:
        if not actor.may(Section.PRINTERS, Access.READ):
            raise Forbidden("the live activity needs read access to printers")
        sub = Subscription(self.queue_size)
        self._subs.add(sub)
        self.has_subscribers.set()
        try:
            yield sub
        finally:
            self._subs.discard(sub)
            if not self._subs:
                self.has_subscribers.clear()


def job_event_kind(state: int, created_at: dt.datetime, changed_at: dt.datetime
                   ) -> EventKind:
    """The event of a job that entered ``state`` at ``changed_at``."""
    if state == JobState.PENDING:
        return EventKind.JOB_RECEIVED if created_at == changed_at else EventKind.JOB_PENDING
    return _BY_STATE.get(JobState(state), EventKind.JOB_PENDING)


class JobFeed:
    """Job changes from the shared store to the hub (see the module docstring)."""

    def __init__(self, hub: EventHub, reports: JobReports, *, interval: float = 2.0,
                 min_gap: float = 0.5, overlap: dt.timedelta = dt.timedelta(seconds=1),
                 batch: int = 1000, remember: int = 50000) -> None:
        self.hub, self.reports = hub, reports
        self.interval, self.min_gap, self.overlap, self.batch = interval, min_gap, overlap, batch
        self.gap, self.keys_read = LookGap(min_gap, overlap), 0
        # (uuid, state) published; (uuid, RECEIVED) once a job's arrival was published.
        self._seen = SeenKeys(remember)
        self._wake = asyncio.Event()
        self._cursor = self._started = hub.clock()

    def job_changed(self, job_uuid: str) -> None:
        """JobNotifier: a job of this node changed; look now rather than at the next tick."""
        if self.hub.subscribers:
            self._wake.set()

    async def run(self) -> None:
        while True:
            if not self.hub.subscribers:
                await self.hub.has_subscribers.wait()
                # From now on: what happened while nobody listened is not replayed.
                self._cursor = self._started = max(self._cursor, self.hub.clock())
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.interval):
                    await self._wake.wait()
            self._wake.clear()
            try:
                await self.poll()
            except Exception:       # a failed read: the next poll reaches back for it
                log.exception("job feed: reading recent changes failed")
            # At most one look per gap however fast jobs come: a busy intake is read in
            # batches, never once per job, and each change at most twice (lookgap.py).
            await asyncio.sleep(self.gap.after(self.keys_read))

    async def poll(self) -> int:
        """One look at the store, page by page; returns how many events it published.
        The keys of the changes come first (an index-only read, the overlap re-read every
        time); only jobs with a (job, state) not yet published are loaded."""
        published = self.keys_read = 0
        after: Cursor | None = None
        since = self._cursor - self.overlap
        while True:
            keys = await self.reports.change_keys(since, self.batch, after)
            self.keys_read += len(keys)
            new = [k for k in keys if (k.uuid, k.state) not in self._seen
                   and k.updated_at >= self._started]
            jobs = await self.reports.summaries([k.uuid for k in new]) if new else {}
            for key in new:
                job = jobs.get(key.uuid)
                if job is not None:
                    published += self._publish(job, key)
            if keys:
                self._cursor = max(self._cursor, keys[-1].updated_at)
                after = Cursor(keys[-1].updated_at, keys[-1].uuid)
            if len(keys) < self.batch:
                return published

    def _publish(self, job: JobSummary, key: ChangeKey) -> int:
        published, state = 0, key.state
        # A job seen first after it moved on (it printed between two looks) is still
        # announced as received: every job's arrival is on the page.
        if (state != JobState.PENDING and job.created_at >= self._started
                and self._seen.first((job.uuid, RECEIVED))):
            self.hub.publish(EventKind.JOB_RECEIVED, queue=job.queue, job_id=job.job_id,
                             user=job.owner)
            published += 1
        if not self._seen.first((job.uuid, state)):
            return published
        kind = job_event_kind(state, job.created_at, key.updated_at)
        if kind == EventKind.JOB_RECEIVED and not self._seen.first((job.uuid, RECEIVED)):
            return published
        self.hub.publish(kind, queue=job.queue, job_id=job.job_id, user=job.owner,
                         message=job.message or "")
        return published + 1
