"""The intake pipeline: from a submission to a stored job, one sequence for every job.

Theory of operation
-------------------
Print-Job, Send-Document (its last document) and Create-Job run the same steps, in this
order; a step with nothing to do for an operation, or with accounting off, returns at once:

1. **Plan** (plan.py): every check that needs no document — accepting jobs,
   document-format, compression, the job-template attributes against the queue's
   printer attributes (RFC 8011 §4.1.7, §4.2.1.2).
2. **Spool**: the document streams into the spool, which decompresses, hashes, enforces
   the size limit and fsyncs; a small document stays in memory and is committed with the
   job row instead (jobs/spool.py).
3. **Analyse** (metering.py): who the owner is and which groups they are in, the format
   detected from the bytes, pages and colour per document in the ``AnalysisPool``, the
   PWG counts and the price. Without accounting nothing reads the documents; with it, a
   small document held in memory is analysed from its bytes (``analyse_bytes``), and a
   file is written for it only if a forced conversion needs one (conversion.py).
4. **Decide**: the policy chain (``policies.PolicyChain.decide(JobFacts) -> Decision``,
   in a thread: a rule may look up recent jobs) allows, holds, denies or forces options;
   with accounting, forced grayscale and duplex are converted (Print-Job) and the job is
   re-counted and re-priced as it will print.
5. **Reserve**: the price is reserved by job UUID (AccountingService.reserve,
   idempotent). A payer problem holds the job instead of refusing it (payer.py): it is
   stored ``pending-held`` with an ``account-*`` reason and nothing reserved;
   ``pay_held`` reserves when it is released.
6. **Create**: the job row (or, for Send-Document, the document and the analysis) is
   committed; ``successful-ok`` therefore means the document and the row are durable.

A refusal at any step is :class:`Refused` (an IPP status and a status-message); every
file spooled or converted for a job that is not created is deleted, whatever the error.
A reservation whose job row is never committed is refunded by the settlement sweep
(settle.py). Blocking work runs in threads; the event loop only awaits.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from sqlalchemy.exc import DBAPIError

from ippproxy.accounting import AccountingError
from ippproxy.filters.pool import MAX_INLINE_BYTES
from ippproxy.ipp import Attribute, Status
from ippproxy.jobs import blob
from ippproxy.jobs.ids import new_uuid
from ippproxy.jobs.records import DocumentHold, JobClosedError, JobRecord, NewDocument
from ippproxy.jobs.spool import Spool, SpoolCompressionError, SpoolLimitExceeded
from ippproxy.jobs.state import INCOMING_REASONS
from ippproxy.jobs.store import JobStore
from ippproxy.metrics import DENIED_BY_ACCOUNT, DENIED_BY_RULE, Metrics
from ippproxy.pipeline import counting
from ippproxy.pipeline.admission import Admission
from ippproxy.pipeline.identity import UNPROVEN
from ippproxy.pipeline.metering import Deferred, Metering, Reading
from ippproxy.pipeline.payer import PayerHold, is_payer_held
from ippproxy.pipeline.plan import Plan, document, plan
from ippproxy.pipeline.quote import quote
from ippproxy.pipeline.refusal import Refused, policy_refusal
from ippproxy.pipeline.release import PIN_KEY, held_for_release, pin_of, without_pin
from ippproxy.pipeline.stages import ANALYSE, CREATE, DECIDE, RECEIVE, RESERVE, StageClock
from ippproxy.pipeline.submission import Accepted, Submission, Validated
from ippproxy.policies import Action, Decision, JobFacts, PolicyChain

log = logging.getLogger(__name__)
NO_HOLD = (None, "no-hold")


class Intake:
    """One per server process. ``metering`` None: accounting is off."""

    def __init__(self, store: JobStore, spool: Spool, chain: PolicyChain | None = None,
                 metering: Metering | None = None, metrics: Metrics | None = None) -> None:
        self.store = store
        self.metrics = metrics or Metrics()
        self.spool = spool
        self.chain = chain or PolicyChain()
        self.metering = metering
        # Told of every job a rule denies (queue, user, reason): a denied job is never
        # stored, so the admin's live activity hears of it here (services/events.py).
        self.on_denied: Callable[[str, str, str], None] | None = None

    # -- the operations --------------------------------------------------------------------
    async def print_job(self, sub: Submission) -> Accepted:
        clock = StageClock()
        p = plan(sub, with_document=True)                                    # 1. plan
        doc = await self._spool(sub, p.compression, p.document_format)       # 2. spool
        clock.mark(RECEIVE)
        job_uuid = new_uuid()          # known before the job exists: charges are keyed by it
        made: list[NewDocument] = []
        try:
            admitted, deferred = await self._meter(sub, p, (doc,), job_uuid, made,
                                                   defer=True, clock=clock)  # 3. - 5.
            job, admitted = await self._create(sub, p, doc, admitted, job_uuid,
                                               deferred)                     # 6. create
            clock.mark(CREATE)
        except BaseException as e:
            self._discard((doc, *made), sub, job_uuid, e)
            raise
        if made:
            self.spool.delete(doc.spool_name)
        self._counted(sub, admitted, clock)
        return Accepted(job, p.unsupported)

    async def _create(self, sub: Submission, p: Plan, doc: NewDocument,
                      admitted: Admission, job_uuid: str, deferred: Deferred | None
                      ) -> tuple[JobRecord, Admission]:
        """Print-Job's job, with its reservation when it was deferred (it is made
        first in the job's own transaction: one writer batch and commit, not two).
        Refused by the ledger, the job is not stored: a payer problem is then a hold, and
        the job is created held for it; a database error there, and the reservation is
        made alone and the job created after it."""
        try:
            return await self._store_printed(sub, p, doc, admitted, job_uuid, deferred)
        except (AccountingError, DBAPIError) as e:
            if deferred is None or self.metering is None:
                raise
            try:
                hold = await self.metering.deferred_failed(deferred, e)
            except Refused:
                self.metrics.denied(sub.queue, DENIED_BY_ACCOUNT)
                raise
        if hold is not None:
            admitted = _payer_held(admitted, hold)
        return await self._store_printed(sub, p, doc, admitted, job_uuid, None)

    async def _store_printed(self, sub: Submission, p: Plan, doc: NewDocument,
                             admitted: Admission, job_uuid: str, deferred: Deferred | None
                             ) -> tuple[JobRecord, Admission]:
        admitted = held_for_release(sub, admitted)
        attrs = without_pin(_with(p.attributes, admitted))
        job = await self.store.create_job(
            sub.queue, owner=sub.user, name=p.job_name, attributes=blob.pack(attrs),
            document_format=admitted.document_format or p.document_format,
            hold_until=_hold_until(p, admitted, sub),
            documents=admitted.documents or (doc,), closed=True,
            reasons=(admitted.hold_reason,) if admitted.hold else None,
            message=admitted.message or None, originating_host=sub.originating_host,
            peer_address=sub.peer_address,
            analysis=admitted.analysis, uuid=job_uuid,
            before=None if deferred is None else deferred.unit,
            before_key="" if deferred is None else deferred.lock,
            read_ahead=None if deferred is None else deferred.read_ahead)
        return job, admitted

    async def create_job(self, sub: Submission) -> Accepted:
        """Create-Job: plan and create (an open job); its document goes through the
        other steps with Send-Document."""
        p = plan(sub, with_document=False)
        # Held for its release from the start: a job-hold-until time of the client's would
        # release it on its own (housekeeping), without its release's rules.
        hold = "indefinite" if sub.release_hold else p.hold_until
        job = await self.store.create_job(
            sub.queue, owner=sub.user, name=p.job_name,
            attributes=blob.pack(without_pin(p.attributes)), hold_until=hold, closed=False,
            reasons=(sub.release_hold,) if sub.release_hold
            else INCOMING_REASONS if p.hold_until in NO_HOLD else None,
            originating_host=sub.originating_host, peer_address=sub.peer_address,
            analysis={PIN_KEY: sub.pin_hash} if sub.pin_hash else None)
        return Accepted(job, p.unsupported)

    async def send_document(self, sub: Submission, job: JobRecord, last: bool) -> JobRecord:
        """Send-Document (RFC 8011 §4.3.1) for an open job of its owner. Its document (a
        job has one: multiple-document-jobs-supported is false) is analysed, decided and
        reserved like a Print-Job's, with the job-template attributes Create-Job accepted
        (no conversion: the job's attributes carry the forced options), whether or not
        it is the last: a job that Close-Job ends later must not print unpriced."""
        clock = StageClock()
        fmt, compression = document(sub)                                     # 1. plan
        p = Plan(blob.unpack(job.attributes), (), fmt, compression, job.name or "untitled",
                 job.hold_until)
        doc = await self._spool(sub, compression, fmt)                       # 2. spool
        clock.mark(RECEIVE)
        try:
            docs = (*(NewDocument(d.spool_name, d.size, d.sha256, d.format, d.name)
                      for d in job.documents), doc)
            admitted, _ = await self._meter(sub, p, docs, job.uuid, clock=clock)  # 3. - 5.
            admitted = held_for_release(replace(sub, pin_hash=pin_of(job)), admitted)
            if admitted.analysis is not None:                                # 6. create
                forced = admitted
                await self.store.set_analysis(
                    job.uuid, admitted.analysis,
                    (lambda b: blob.pack(_with(blob.unpack(b), forced)))
                    if forced.overrides or forced.removed else None)
            # The document, the close (last) and the hold in one write: between two, a
            # forwarder could claim the closed job before its hold.
            job = await self.store.add_document(
                job.uuid, doc, last=last,
                hold=DocumentHold((admitted.hold_reason,), admitted.message or None)
                if admitted.hold else None)
            clock.mark(CREATE)
            self._counted(sub, admitted, clock)
            return job
        except JobClosedError:
            self.spool.delete(doc.spool_name)
            raise Refused(Status.CLIENT_ERROR_NOT_POSSIBLE,
                          f"job {job.job_id} already received its last document") from None
        except BaseException as e:
            self._discard((doc,), sub, job.uuid, e)
            raise

    async def validate(self, sub: Submission) -> Validated:
        """Validate-Job: the plan, and with accounting a price quote (quote.py)."""
        p = plan(sub, with_document=True)
        message = ""
        if self.metering is not None:
            extra = tuple(a for a in (sub.op("job-impressions"), sub.op("job-pages"))
                          if a is not None)
            message = await quote(self.metering.accounting, sub.queue, sub.user,
                                  (*p.attributes, *extra))
        return Validated(p.unsupported, message)

    # -- the steps ---------------------------------------------------------------------------
    async def meter(self, sub: Submission, p: Plan, docs: Sequence[NewDocument],
                    job_uuid: str, made: list[NewDocument] | None = None) -> Admission:
        """Analyse, decide, reserve (converting for a Print-Job: ``made`` collects the
        converted documents); an unproven job on a "popup" queue skips them (identity.py)."""
        admitted, _ = await self._meter(sub, p, docs, job_uuid, made)
        return admitted

    async def _meter(self, sub: Submission, p: Plan, docs: Sequence[NewDocument],
                     job_uuid: str, made: list[NewDocument] | None = None, *,
                     defer: bool = False, clock: StageClock | None = None
                     ) -> tuple[Admission, Deferred | None]:
        """``meter``; ``defer``: the reservation may be left to the job's creation;
        ``clock``: told where each stage ends."""
        if sub.unproven and self.metering is not None:
            return UNPROVEN, None
        clock = clock or StageClock()
        facts, reading = await self._analyse(sub, p, docs, job_uuid)          # 3. analyse
        clock.mark(ANALYSE)
        if reading is not None:
            for a in reading.analyses:
                self.metrics.analysis_stages(a.stages)
        admitted = await self._decide(sub, p, facts, reading, made is not None,
                                      made if made is not None else [])      # 4. decide
        clock.mark(DECIDE)
        reserved = await self._reserve(sub, facts, reading, admitted, job_uuid,
                                       defer)                               # 5. reserve
        clock.mark(RESERVE)
        return reserved

    async def _spool(self, sub: Submission, compression: str, fmt: str) -> NewDocument:
        try:
            async with self.spool.writer(compression, copy=True) as w:
                async for chunk in sub.body:
                    await w.write(chunk)
        except SpoolLimitExceeded:
            raise Refused(Status.CLIENT_ERROR_REQUEST_ENTITY_TOO_LARGE,
                          "document is larger than this server accepts") from None
        except SpoolCompressionError as e:
            raise Refused(Status.CLIENT_ERROR_COMPRESSION_ERROR,
                          f"cannot decompress the document ({compression}): {e}"[:200]
                          ) from None
        return NewDocument(spool_name=w.name, size=w.size, sha256=w.sha256, format=fmt,
                           name=sub.document_name, compression=compression,
                           content=w.content)  # committed with the job: see jobs/spool.py

    async def _analyse(self, sub: Submission, p: Plan, docs: Sequence[NewDocument],
                       job_uuid: str) -> tuple[JobFacts, Reading | None]:
        if self.metering is None:   # nothing reads the documents
            ticket = counting.ticket(p.attributes)
            return JobFacts(job_uuid=job_uuid, user=sub.user, printer=sub.queue,
                            document_format=p.document_format,
                            sha256=docs[0].sha256 if docs else "",
                            size=sum(d.size for d in docs), copies=ticket.copies,
                            duplex=ticket.sides != "one-sided"), None
        return await self.metering.read(sub.queue, sub.user, p.attributes, p.document_format,
                                        await self._sources(docs), docs, job_uuid)

    async def _sources(self, docs: Sequence[NewDocument]) -> tuple[Path | bytes, ...]:
        """What the analysis reads: the bytes of a document held in memory (a small one,
        not yet committed with its job: jobs/spool.py), which no file is written for; the
        file of any other (written from its copy in the store if it has none)."""
        sources: list[Path | bytes] = []
        for d in docs:
            if d.content is not None and len(d.content) <= MAX_INLINE_BYTES:
                sources.append(d.content)
            elif d.content is not None:
                await asyncio.to_thread(self.spool.write_unsynced, d.spool_name, d.content)
                sources.append(self.spool.path(d.spool_name))
            else:
                sources.append(await self.spool.ensure_file(d.spool_name))
        return tuple(sources)

    async def _decide(self, sub: Submission, p: Plan, facts: JobFacts,
                      reading: Reading | None, convert: bool,
                      made: list[NewDocument]) -> Admission:
        decision = (await asyncio.to_thread(self.chain.decide, facts) if self.chain.policies
                    else Decision.allow())
        if decision.action == Action.DENY:
            self.metrics.denied(sub.queue, DENIED_BY_RULE)
            refusal = policy_refusal(decision)
            if self.on_denied is not None:
                self.on_denied(sub.queue, sub.user, refusal.message)
            raise refusal
        if self.metering is None or reading is None:
            return Admission(hold=decision.action == Action.HOLD,
                             hold_reason=decision.hold_reason, message=decision.reason)
        return await self.metering.admit(sub.queue, p.job_name, reading, decision, convert,
                                         made)

    async def _reserve(self, sub: Submission, facts: JobFacts, reading: Reading | None,
                       admitted: Admission, job_uuid: str, defer: bool
                       ) -> tuple[Admission, Deferred | None]:
        """The admission as stored: held for its payer when the price cannot be
        reserved for a payer's reason (payer.py); or the reservation deferred."""
        if self.metering is None or reading is None:
            return admitted, None
        try:
            hold = await self.metering.reserve(job_uuid, facts.user, sub.queue, reading,
                                               admitted, defer=defer)
        except Refused:
            self.metrics.denied(sub.queue, DENIED_BY_ACCOUNT)
            raise
        if isinstance(hold, Deferred):
            return admitted, hold
        return (admitted, None) if hold is None else (_payer_held(admitted, hold), None)

    async def pay_held(self, job: JobRecord, pin: str | None = None) -> PayerHold | None:
        """Before a job held for its payer is released: reserve its price (payer.py);
        the hold that still applies, or None. ``pin``: the chosen account's PIN."""
        if self.metering is None or not is_payer_held(job.state_reasons):
            return None
        return await self.metering.pay_held(job, pin)

    def _counted(self, sub: Submission, admitted: Admission, clock: StageClock) -> None:
        """A job received (held or not), how long its intake took and where that went."""
        self.metrics.received(sub.queue)
        if admitted.hold:
            self.metrics.held(sub.queue)
        self.metrics.intake_seconds(sub.operation, sum(clock.seconds.values()))
        self.metrics.intake_stages(sub.operation, clock.seconds)

    def _discard(self, docs: Sequence[NewDocument], sub: Submission, job_uuid: str,
                 error: BaseException) -> None:
        if isinstance(error, Refused):
            log.info("%s: job %s of %s on %s refused: %s", sub.operation, job_uuid, sub.user,
                     sub.queue, error.message)
        for d in docs:
            self.spool.delete(d.spool_name)


def _payer_held(admitted: Admission, hold: PayerHold) -> Admission:
    message = "; ".join(m for m in (hold.message, admitted.message) if m)
    return replace(admitted, hold=True, hold_reason=hold.reason, message=message[:255])


def _hold_until(p: Plan, admitted: Admission, sub: Submission) -> str | None:
    """job-hold-until as stored: a job held by the decision without a hold of its own
    waits for an operator (``indefinite``, RFC 8011 §5.2.2); one held for its release waits
    for it whatever time the client named (else housekeeping would release it then)."""
    if admitted.hold and sub.release_hold and admitted.hold_reason == sub.release_hold:
        return "indefinite"
    if admitted.hold and p.hold_until in NO_HOLD:
        return "indefinite"
    return p.hold_until


def _with(attributes: Sequence[Attribute], admitted: Admission) -> list[Attribute]:
    """The accepted attributes with the forced options set (force grayscale, duplex)."""
    names = {o.name for o in admitted.overrides} | set(admitted.removed)
    return [*(a for a in attributes if a.name not in names), *admitted.overrides]
