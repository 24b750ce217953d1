"""The Forwarder: drives pending jobs to their destination printer and to a terminal state.

Theory of operation
-------------------
One loop claims due jobs from the store (``claim_next_for_forwarding``: pending,
closed, not held, ``next_attempt_at`` reached; the claim moves the job to
``processing`` with a lease; when nothing is claimable, a read says so and no write
lock is taken, so an idle or paused forwarder does not queue behind the intake's
commits) and runs each in its own task, at most
``max_jobs`` at a time. A queue's jobs are sent one at a time, in order
(order.py): its next job is claimed once the last one is at the printer. It sleeps until the next due retry, a poll tick, or
``job_changed()`` (the server calls it when a job becomes ready or is canceled).

For one job:

1. **Already sent?** If ``forward_started`` is set, an earlier attempt may have
   reached the printer (we crashed, or the connection broke after the body was
   sent). We ask the destination with Get-Jobs (which-jobs=all) for the
   ``job-uuid`` we put on every job we send. Found, and not canceled/aborted:
   follow that remote job instead of sending again. Not found: send. Found but still
   waiting for its documents (``job-incoming``/``job-data-insufficient``: the attempt
   ended between Create-Job and the last Send-Document): cancel it, then send.
2. **Send.** Commit ``forward_started`` (and the destination) *before* the first
   byte goes out, then Create-Job + Send-Document or Print-Job (client.py), then
   record the remote job-id. A document missing from the spool (a node that does
   not share the spool of the node that took the job) aborts the job with
   ``document-access-error`` instead of retrying for ever.
3. **Follow.** Poll Get-Job-Attributes every ``poll_interval``: remote
   processing-stopped -> ours processing-stopped (``printer-stopped``) and back;
   remote terminal -> complete / cancel / abort ours with its
   job-impressions-completed and job-media-sheets-completed, in one write. If our job
   was canceled meanwhile (Cancel-Job on our side), cancel the remote job.
4. **Failures.** ``DestinationUnavailable`` before the printer has the job:
   back to ``pending`` with ``printer-stopped`` (``resources-are-not-ready``
   when busy), a ``job-state-message`` with the cause, and ``next_attempt_at``
   from the back-off; ``forward_started`` is cleared when the request certainly
   did not arrive (connection refused), so the retry needs no lookup.
   ``DestinationRejected``: abort with the printer's (sanitised) message.
   While following, an unreachable printer is retried with back-off; the job
   stays ``processing``.

**Several nodes.** Claims carry this node's lease, renewed while the job is ours;
jobs of a node that stopped renewing are given back to pending (lease.py).

**A printer that cannot list jobs with job-uuid** (no Get-Jobs, or answers
without job-uuid): after an attempt whose outcome is unknown we cannot tell
whether it printed. ``unknown_outcome="hold"`` (default) puts the job on hold
(``pending-held``, reason ``job-hold-until-specified``, a message saying why)
with ``forward_started`` cleared, so an operator decides: Release-Job resends
it once, Cancel-Job drops it. This prefers a possibly lost job over a
possibly doubled one (and a doubled charge). ``"resend"`` sends again
(at-least-once, like CUPS). A connection that was refused never counts as
unknown, so an offline printer of that kind still gets each job exactly once.

**Formats.** Before sending, ``outgoing.prepare`` checks the job's format against
the destination's ``document-format-supported`` (formats.py plans it): a format
the printer does not take is converted in the analysis pool (PDF to PWG raster
or URF, PostScript or text to PDF, ...) into a scratch file that is deleted once
the upload ended; the job shows ``job-transforming`` meanwhile, and its messages
say what was done. No route, or a failed conversion, aborts the job
(``unsupported-document-format`` / ``document-unprintable-error``).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import logging
from collections.abc import Callable
from typing import Literal

import aiohttp

from ippproxy.config import Config
from ippproxy.filters.pool import AnalysisPool
from ippproxy.ipp import Attribute, Status, Tag, decode
from ippproxy.jobs.records import JobRecord
from ippproxy.jobs.spool import Spool
from ippproxy.jobs.state import InvalidTransition, JobEvent, JobState
from ippproxy.jobs.store import JobStore
from ippproxy.metrics import Metrics

from .backoff import Backoff
from .capabilities import destination_uri
from .client import DestinationClient, ForwardJob, RemoteJob
from .errors import DestinationError, DestinationRejected, DestinationUnavailable
from .follow import follow_remote
from .lease import LEASE, keep_leases
from .order import QueueGate
from .outgoing import ConversionBusy, JobEnded, Outbox, Unconvertible, prepare
from .source import missing_document
from .wakeups import JobWakeups

log = logging.getLogger(__name__)
# After a wake-up, gather the other wake-ups of this long before looking at the store.
COALESCE = 0.02
Outcome = Literal["hold", "resend"]


def destination_for(config: Config, rec: JobRecord) -> str | None:
    """The destination URI of a job: its own, else its queue's (builtin -> virtual printer)."""
    if rec.destination_uri:
        return rec.destination_uri
    queue = config.queue(rec.queue)
    return None if queue is None else destination_uri(queue, config.virtual_printer)


def forward_job(rec: JobRecord) -> ForwardJob:
    attrs: tuple[Attribute, ...] = ()
    if rec.attributes:
        group = decode(rec.attributes).group(Tag.JOB_ATTRIBUTES)
        attrs = group.attributes if group is not None else ()
    fmt = rec.document_format or next((d.format for d in rec.documents if d.format), None)
    return ForwardJob(uuid=rec.uuid, name=rec.name or f"job-{rec.job_id}", user=rec.owner,
                      attributes=attrs,
                      document_format=fmt or "application/octet-stream")


class _Held(Exception):
    """The job was put on hold: its outcome at the destination is unknown."""


class Forwarder:
    def __init__(self, store: JobStore, spool: Spool, config: Config, *, max_jobs: int = 64,
                 unknown_outcome: Outcome = "hold",
                 resolve: Callable[[JobRecord], str | None] | None = None,
                 on_finished: Callable[[str], None] | None = None,
                 pool: AnalysisPool | None = None,
                 lease: dt.timedelta = LEASE,
                 receiving: Callable[[], bool] = lambda: False,
                 metrics: Metrics | None = None) -> None:
        self.store, self.spool, self.config = store, spool, config
        self.metrics = metrics or Metrics()  # printed jobs and retries
        self.lease = lease  # claims are renewed and expired ones taken over (lease.py)
        # Told the job UUID whenever forwarding of a job ends, whatever the outcome
        # (the settlement of its charge listens here).
        self.on_finished = on_finished
        fwd = config.forwarding
        self.backoff = Backoff(fwd.retry_initial, fwd.retry_max)
        self.poll_interval = fwd.poll_interval
        # Jobs being sent or followed. A queue sends one job at a time (order.py), so
        # this bounds the jobs followed at their printers at once.
        self.max_jobs = max_jobs
        # ``receiving``: True while the server receives job submissions (order.py).
        self.gate = QueueGate(spacing=fwd.send_interval_while_receiving, receiving=receiving)
        self.unknown_outcome = unknown_outcome
        self._resolve = resolve or (lambda rec: destination_for(self.config, rec))
        self._clients: dict[str, DestinationClient] = {}
        self._session: aiohttp.ClientSession | None = None
        self._loop_task: asyncio.Task[None] | None = None
        self._lease_task: asyncio.Task[None] | None = None
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._wake = asyncio.Event()
        self._freed = False  # a queue's send slot was freed: its next job goes at once
        self.wakeups = JobWakeups()  # the follower or converter of each job in flight
        # Conversions for destinations that do not take the job's format (outgoing.py);
        # without a pool, one is made from [analysis] when first needed.
        self.outbox = Outbox(spool, config.analysis, node=config.storage.node, pool=pool)

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        await self.outbox.start()
        self._session = aiohttp.ClientSession()
        self._loop_task = asyncio.create_task(self._run(), name="forwarder")
        self._lease_task = asyncio.create_task(
            keep_leases(self.store, self._tasks.keys, self.lease, self._wake.set),
            name="forwarder-leases")

    async def stop(self) -> None:
        """Stop at once; jobs in flight stay ``processing`` and recovery requeues them."""
        tasks = [t for t in (self._loop_task, self._lease_task, *self._tasks.values())
                 if t is not None]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._loop_task = self._lease_task = None
        if self._session is not None:
            await self._session.close()
            self._session = None
        await self.outbox.close()

    def job_changed(self, job_uuid: str) -> None:
        """A job became ready, or was canceled: wake the loop and the job's follower."""
        self._wake.set()
        self.wakeups.changed(job_uuid)

    def reconfigure(self, config: Config) -> None:
        """Take a new effective configuration (the catalog changed): the queues whose jobs
        are claimed and where they go. A new queue's waiting jobs are looked at now."""
        self.config = config
        self._wake.set()

    def client(self, uri: str, force_print_job: bool = False) -> DestinationClient:
        key = f"{uri}|{force_print_job}"
        if key not in self._clients:
            assert self._session is not None, "Forwarder not started"
            fwd = self.config.forwarding
            self._clients[key] = DestinationClient(
                uri, self._session, attributes_ttl=fwd.attributes_ttl,
                connect_timeout=fwd.connect_timeout, read_timeout=fwd.send_timeout,
                force_print_job=force_print_job)
        return self._clients[key]

    # -- the loop ------------------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            self._freed = False
            try:
                queues: list[str] | None = None
                while len(self._tasks) < self.max_jobs:
                    queues = self.gate.claimable(q.name for q in self.config.queues)
                    if queues == []:
                        break
                    rec = await self.store.claim_next_for_forwarding(lease=self.lease,
                                                                     queues=queues)
                    if rec is None:
                        break
                    self.gate.enter(rec.queue, rec.uuid)
                    self._tasks[rec.uuid] = asyncio.create_task(self._job_task(rec))
                # Every queue waits in the gate (sending, retrying, or spaced for intake):
                # no store read on this wake-up (each Print-Job wakes us).
                timeout = await self._idle_time(store=queues != [])
            except Exception:  # a store hiccup must not end forwarding for good
                log.exception("forwarder loop")
                timeout = self.backoff.maximum
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._wake.wait()
            # Jobs that arrive together (a burst of Print-Jobs, each waking us) are then
            # claimed in one pass instead of one pass and store round trip each.
            if not self._freed:
                await asyncio.sleep(min(COALESCE, self.poll_interval))

    async def _idle_time(self, store: bool = True) -> float:
        limit = max(self.poll_interval, 0.05) * 5
        unblock = self.gate.seconds_to_unblock()
        if unblock is not None:
            limit = min(limit, unblock + 0.01)
        if not store:
            return limit
        due = await self.store.next_attempt_time()
        if due is None:
            return limit
        return min(limit, max(0.0, (due - self.store.clock()).total_seconds()) + 0.01)

    async def _job_task(self, rec: JobRecord) -> None:
        self.wakeups.watch(rec.uuid)
        try:
            await self.forward(rec)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("forwarding job %s", rec.uuid)
            with contextlib.suppress(Exception):
                await self._requeue(rec, DestinationUnavailable("internal error"), True)
        finally:
            if self.gate.leave(rec.queue, rec.uuid):
                self._freed = True
            self._tasks.pop(rec.uuid, None)
            self.wakeups.forget(rec.uuid)
            self.outbox.notes.pop(rec.uuid, None)
            self._wake.set()
            if self.on_finished is not None:
                self.on_finished(rec.uuid)

    # -- one job -------------------------------------------------------------------------------

    async def forward(self, rec: JobRecord) -> None:
        """Drive one claimed (``processing``) job to a terminal state or back to pending."""
        uri = self._resolve(rec)
        if uri is None:
            await self._abort(rec, f"queue {rec.queue!r} has no destination")
            return
        queue = self.config.queue(rec.queue)
        client = self.client(uri, queue.force_print_job if queue else False)
        remote: int | None = None
        try:
            if rec.forward_started:
                remote = await self._lookup(client, rec)
            if remote is None:
                missing = await missing_document(self.spool, rec)
                if missing is not None:  # never sent (the destination has no such job)
                    if rec.forward_started:
                        await self.store.update_forwarding(rec.uuid, forward_started=False)
                    await self._abort(rec, missing, "document-access-error")
                    return
                remote = await self._send(client, rec, uri)
            else:
                await self.store.update_forwarding(
                    rec.uuid, remote_job_id=remote, reasons=("job-printing",),
                    message="following the job already at the destination")
            # At the printer: the queue's next job may go (order.py) while this one prints.
            if self.gate.leave(rec.queue, rec.uuid):
                self._freed = True
                self._wake.set()
            ended = await follow_remote(self.store, client, rec, remote,
                                        wakeups=self.wakeups, backoff=self.backoff,
                                        poll_interval=self.poll_interval,
                                        note=self.outbox.notes.get(rec.uuid, ""))
            if ended == JobState.COMPLETED:
                self.metrics.printed(rec.queue)
        except DestinationUnavailable as exc:
            await self._requeue(rec, exc, exc.maybe_delivered or remote is not None)
        except DestinationRejected as exc:
            await self._abort(rec, f"destination refused the job: {exc.message}")
        except Unconvertible as exc:
            await self._abort(rec, exc.message, *exc.reasons[1:])
        except ConversionBusy as exc:
            await self._requeue(rec, DestinationUnavailable(
                f"document conversion: {exc}", Status.SERVER_ERROR_BUSY), remote is not None)
        except (_Held, JobEnded):
            return
        except InvalidTransition:
            log.info("job %s changed state while being forwarded", rec.uuid)

    async def _lookup(self, client: DestinationClient, rec: JobRecord) -> int | None:
        try:
            found: RemoteJob | None = await client.find_job_by_uuid(rec.uuid)
        except DestinationRejected:  # no Get-Jobs, or no job-uuid in it
            if self.unknown_outcome == "resend":
                return None
            await self._hold_unknown(rec)
            raise _Held() from None
        if found is None or found.state in (JobState.CANCELED, JobState.ABORTED):
            return None
        if found.awaiting_documents:
            # Created, but the earlier attempt ended before the printer had the document
            # (a crash between Create-Job and Send-Document). Nobody will send it: cancel
            # it (a printer that takes one job at a time is busy until it ends) and send
            # the job again.
            log.warning("job %s: the printer's job %d never got its document; canceling it "
                        "and sending again", rec.uuid, found.job_id)
            try:
                await client.cancel(found.job_id)
            except DestinationRejected as exc:  # it stays empty: it cannot print twice
                log.warning("job %s: canceling the printer's job %d: %s", rec.uuid,
                            found.job_id, exc.message)
            return None
        return found.job_id

    async def _send(self, client: DestinationClient, rec: JobRecord, uri: str) -> int:
        await self.store.update_forwarding(
            rec.uuid, destination_uri=uri, forward_started=True,
            forward_attempts=rec.forward_attempts + 1, reasons=("job-outgoing",),
            message="sending the job to the printer")
        job = forward_job(rec)
        # Converted when the printer needs it.
        out = await prepare(self.outbox, self.store, self.wakeups, client, rec, job)
        try:
            if out.note:
                await self.store.update_forwarding(
                    rec.uuid, reasons=("job-outgoing",),
                    message=f"sending the job to the printer ({out.note})")
            remote = await client.submit(
                dataclasses.replace(job, document_format=out.document_format), out.documents)
        finally:
            await self.outbox.discard(out)
        note = f" ({out.note})" if out.note else ""
        await self.store.update_forwarding(rec.uuid, remote_job_id=remote,
                                           reasons=("job-printing",),
                                           message=f"sent to the printer as job {remote}{note}")
        return remote

    async def _requeue(self, rec: JobRecord, exc: DestinationError, maybe_sent: bool) -> None:
        attempts = (await self._attempts(rec)) or 1
        delay = self.backoff.delay(attempts)
        when = self.store.clock() + dt.timedelta(seconds=delay)
        busy = exc.status == Status.SERVER_ERROR_BUSY
        reasons = ("resources-are-not-ready",) if busy else ("printer-stopped",)
        message = f"printer unavailable ({exc.message}); retry in {delay:.0f} s"
        if not maybe_sent:
            await self.store.update_forwarding(rec.uuid, forward_started=False)
        try:
            await self.store.transition(rec.uuid, JobEvent.REQUEUE, reasons=reasons,
                                        message=message, next_attempt_at=when)
        except InvalidTransition:   # canceled while the attempt failed: nothing to retry
            log.info("job %s changed state while being forwarded", rec.uuid)
            return
        self.gate.block(rec.queue, delay)  # later jobs wait behind this one (order.py)
        self.metrics.retried(rec.queue)
        log.info("job %s requeued: %s", rec.uuid, message)

    async def _attempts(self, rec: JobRecord) -> int:
        current = await self.store.get_by_uuid(rec.uuid)
        return current.forward_attempts if current is not None else rec.forward_attempts

    async def _hold_unknown(self, rec: JobRecord) -> None:
        await self.store.update_forwarding(rec.uuid, forward_started=False)
        await self.store.transition(rec.uuid, JobEvent.REQUEUE)
        await self.store.transition(
            rec.uuid, JobEvent.HOLD, reasons=("job-hold-until-specified",),
            message="the printer cannot tell whether it already printed this job; "
                    "release it to print it again", hold_until="indefinite")

    async def _abort(self, rec: JobRecord, message: str, *reasons: str) -> None:
        try:
            await self.store.transition(rec.uuid, JobEvent.ABORT,
                                        reasons=("aborted-by-system", *reasons),
                                        message=message)
        except InvalidTransition:   # canceled (or ended) meanwhile: it stays so
            log.info("job %s changed state while being forwarded", rec.uuid)
            return
        log.warning("job %s aborted: %s", rec.uuid, message)
