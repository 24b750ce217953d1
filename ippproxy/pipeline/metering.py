"""Metering: the intake steps that read documents and touch accounts (accounting on).

``read`` is the analyse step: the owner's canonical name and groups (an unknown user is
created with the configured defaults, or refused with ``unknown_users = "refuse"``), the
format detected from the bytes (``application/octet-stream`` means detect; a contradicting
``document-format`` is client-error-document-format-error, an unknown format
client-error-document-format-not-supported), each document analysed in the
``AnalysisPool`` (worker processes with limits, off the event loop), the PWG counts of
the ticket (counting.py) and the price. ``admit`` applies the policy chain's decision:
a hold, forced grayscale and duplex (Print-Job: converted in the pool into a new spool
document; always: ``print-color-mode`` / ``sides`` on the forwarded job), then re-counts
and re-prices the job as it will print; a document whose pages cannot be counted follows
``analysis.unknown_pages``; a Find-Me queue's job is held for its owner and priced at
the dearest printer of its group (findme.py). ``reserve`` debits the price by job UUID
(AccountingService.reserve, idempotent); a payer problem is a hold, not a refusal
(payer.py), and ``pay_held`` reserves for such a job when it is released. On SQLite the
reservation is a unit of the job store's group commit (storecommit.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import OperationalError

from ippproxy.accounting import AccountingError, AccountingService, JobCounts, canonical_name
from ippproxy.config import Config
from ippproxy.filters import counts as pwg
from ippproxy.filters import detect
from ippproxy.filters.errors import AnalysisError
from ippproxy.filters.model import DocumentAnalysis
from ippproxy.ipp import Attribute, Status
from ippproxy.jobs import blob
from ippproxy.jobs.records import JobRecord, NewDocument
from ippproxy.pipeline import counting, overrides
from ippproxy.pipeline.admission import Admission
from ippproxy.pipeline.conversion import GRAYSCALE_INPUTS, Converter
from ippproxy.pipeline.findme import findme_queue, held, priced_at
from ippproxy.pipeline.payer import (
    CHOSEN,
    NO_ACCOUNT,
    PAYER_REASONS,
    PRINT_AS_OTHER,
    PayerHold,
    PayerReason,
    payer_hold,
    priced_counts,
    priced_json,
)
from ippproxy.pipeline.refusal import Refused, analysis_refusal
from ippproxy.pipeline.storecommit import Writer, run_unit
from ippproxy.policies import Action, Decision, JobFacts

log = logging.getLogger(__name__)
MONOCHROME = frozenset({"monochrome", "process-monochrome", "bi-level", "process-bi-level"})


@dataclass(frozen=True)
class Reading:
    """What the documents of a job say, and what the job costs as submitted."""

    sources: tuple[Path | bytes, ...]   # each document's file, or its bytes held in memory
    analyses: tuple[DocumentAnalysis, ...]
    groups: frozenset[str]
    ticket: pwg.JobTicket
    counts: pwg.JobCounts | None     # None: a document's pages cannot be counted
    mono: bool                       # print-color-mode asks for monochrome already
    printed: tuple[DocumentAnalysis, ...]   # colour pages as they print (overrides.py)
    page_overrides: Attribute | None        # the job's overrides (PWG 5100.6)
    estimate: int | None
    account: str | None              # job-account-id


class Metering:
    """``writer``: the job store's group commit, where reservations run (storecommit.py);
    None: the ledger's own transactions. ``nowait``: on SQLite, an engine whose reads
    never wait for a lock (db.engine.nowait_reader), which reads the owner on the event
    loop's thread: a hand-off to a thread and back costs more than the read, and the
    thread's Python contends with the loop's for the GIL. Its read fails rather than
    waits on a locked database, and then goes to a thread."""

    def __init__(self, config: Config, accounting: AccountingService,
                 converter: Converter, writer: Writer | None = None,
                 nowait: Engine | None = None) -> None:
        self.config = config
        self.accounting = accounting
        self.converter = converter
        self.writer = writer
        self.nowait = nowait
        self._reader: Connection | None = None   # nowait's, kept open (connecting costs)

    # -- analyse -------------------------------------------------------------------------
    async def read(self, queue: str, user: str, attributes: tuple[Attribute, ...],
                   hint: str, sources: tuple[Path | bytes, ...],
                   docs: Sequence[NewDocument], job_uuid: str) -> tuple[JobFacts, Reading]:
        """``sources``: each document's file, or its bytes (at most
        ``pool.MAX_INLINE_BYTES``), analysed from memory with no file written."""
        name, groups = await self._user(user)
        analyses = ((await self._analyse(sources[0], hint),) if len(sources) == 1  # no task
                    else tuple(await asyncio.gather(*(self._analyse(s, hint) for s in sources))))
        attrs = {a.name: a for a in attributes}
        mode = attrs.get("print-color-mode")
        mono = mode is not None and mode.value in MONOCHROME
        ticket = overrides.priced_ticket(counting.ticket(attributes), attributes)
        printed = overrides.as_printed(analyses, attributes)
        counts = counting.count(printed, ticket)
        reading = Reading(sources, analyses, groups, ticket, counts, mono, printed,
                          attrs.get("overrides"),
                          self._estimate(groups, queue, counts), account_of(attributes))
        colour = None
        if counts is not None and counts.impressions_col_total is not None:
            colour = counts.impressions_col_total > 0
        facts = JobFacts(
            job_uuid=job_uuid, user=name, printer=queue, groups=groups,
            document_format=analyses[0].format, sha256=docs[0].sha256 if docs else "",
            size=sum(d.size for d in docs),
            pages=None if counts is None else counts.pages,
            impressions=None if counts is None else counts.impressions_total,
            copies=ticket.copies,
            media=frozenset(m.media for m in counts.per_media) if counts else frozenset(),
            color=colour, duplex=ticket.sides != "one-sided", cost=reading.estimate,
            account=reading.account)
        return facts, reading

    async def _user(self, raw: str) -> tuple[str, frozenset[str]]:
        try:
            user = canonical_name(raw)
        except ValueError as e:
            raise Refused(Status.CLIENT_ERROR_NOT_AUTHORIZED, f"bad user name: {e}") from None
        groups = await self._live_groups(user)
        if groups is None:  # not in the user store (or disabled): create or refuse
            try:
                await asyncio.to_thread(self.accounting.ensure_user, user)
            except AccountingError as e:
                raise Refused(Status.CLIENT_ERROR_NOT_AUTHORIZED, str(e)) from None
            groups = await self._live_groups(user)
        return user, groups or frozenset()

    async def _live_groups(self, user: str) -> frozenset[str] | None:
        if self.nowait is not None:
            try:
                if self._reader is None:
                    self._reader = self.nowait.connect().execution_options(
                        sqlite_begin="DEFERRED")
                return self.accounting.live_groups(user, self._reader)
            except OperationalError:   # locked: wait for it in a thread, not on the loop
                log.debug("user store locked: reading %s in a thread", user)
                self.close()   # given back to its pool, which rolls back what was left open
        return await asyncio.to_thread(self.accounting.live_groups, user)

    def close(self) -> None:
        """Give the nowait reader's connection back (before its engine is disposed)."""
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    async def _analyse(self, source: Path | bytes, hint: str) -> DocumentAnalysis:
        if isinstance(source, bytes):
            head = source[:detect.HEAD_BYTES]
        else:
            head = await asyncio.to_thread(_head, source)
        try:
            fmt = detect.detect_format(head, hint)
            if isinstance(source, bytes):
                return await self.converter.pool.analyse_bytes(source, fmt)
            return await self.converter.pool.analyse(source, fmt)
        except AnalysisError as e:
            raise analysis_refusal(e) from None

    def _estimate(self, groups: frozenset[str], queue: str,
                  counts: pwg.JobCounts | None) -> int | None:
        """The price for a member of ``groups`` (what AccountingService.estimate and
        reserve compute, without a database round trip)."""
        if counts is None:
            return None
        return self.accounting.pricing.price(self._at(queue, groups, counts), groups,
                                             counts=counting.job_counts(counts))

    def _at(self, queue: str, groups: frozenset[str], counts: pwg.JobCounts) -> str:
        """Where a job on ``queue`` is priced (a Find-Me queue: its dearest printer)."""
        return priced_at(self.config, self.accounting.pricing, queue, groups,
                         counting.job_counts(counts))

    # -- decide ----------------------------------------------------------------------------
    async def admit(self, queue: str, job_name: str, r: Reading, decision: Decision,
                    convert: bool, made: list[NewDocument]) -> Admission:
        """The job as it will print after ``decision`` (allow, hold or modify);
        ``convert``: forced options may replace the document (Print-Job). Converted
        documents are appended to ``made`` as soon as they exist (the caller deletes them
        if the job is not created)."""
        hold_message = decision.reason if decision.action == Action.HOLD else ""
        hold_reason, hold_message = held(self.config, queue, decision.hold_reason, hold_message)
        if r.counts is None:
            hold_message = hold_message or self._unknown_pages()
        gray = decision.force_grayscale and _has_colour(r.printed)
        duplex = decision.force_duplex and r.ticket.sides == "one-sided"
        documents: tuple[NewDocument, ...] = ()
        if convert and (gray or duplex):
            documents = await self._convert(r, job_name, gray, duplex, made)
        ticket, counts, estimate = r.ticket, r.counts, r.estimate
        if gray or duplex:
            ticket = replace(ticket, sides=counting.TWO_SIDED) if duplex else ticket
            counts = counting.count(r.printed, ticket, grayscale=gray)
            estimate = self._estimate(r.groups, queue, counts)
        analysis = self._record(r, counts, estimate, decision, gray, duplex)
        kept, removed = _forced_out(r.page_overrides, decision.force_grayscale,
                                    decision.force_duplex)
        if findme_queue(self.config, queue) is not None and counts is not None:
            analysis["findme"] = {"priced_at": self._at(queue, r.groups, counts)}
        cost = analysis["attributes"].get("ippproxy-cost-estimate")
        # "Printed in grayscale on office; estimated cost 0.20 EUR": the parts as clauses
        message = "; ".join(m.rstrip(". ") for m in (hold_message or decision.reason,
                                                     f"estimated cost {cost}" if cost else "")
                            if m)
        return Admission(
            hold=bool(hold_message),
            hold_reason=hold_reason, message=message,
            overrides=(*counting.overrides(gray, duplex), *kept), removed=removed,
            documents=documents,
            document_format=documents[0].format if documents else r.analyses[0].format,
            counts=counts, estimate=estimate, analysis=analysis,
            account=r.account or decision.account or None)

    def _unknown_pages(self) -> str:
        mode = self.config.analysis.unknown_pages
        text = "the pages of this document cannot be counted"
        if mode == "deny":
            raise Refused(Status.CLIENT_ERROR_DOCUMENT_FORMAT_NOT_SUPPORTED, text)
        return f"{text}; an operator must release it" if mode == "hold" else ""

    async def _convert(self, r: Reading, job_name: str, gray: bool, duplex: bool,
                       made: list[NewDocument]) -> tuple[NewDocument, ...]:
        """One document (Print-Job): the converted document, or () if none applies."""
        a, source = r.analyses[0], r.sources[0]
        doc: NewDocument | None = None
        try:
            if gray and a.format in GRAYSCALE_INPUTS:
                doc = await self.converter.grayscale(source, job_name)
                made.append(doc)
            if duplex and a.format == detect.POSTSCRIPT and doc is None:
                doc = await self.converter.ps_duplex(source, job_name)
                made.append(doc)
        except AnalysisError as e:
            raise analysis_refusal(e, "conversion failed: ") from None
        return (doc,) if doc is not None else ()

    def _record(self, r: Reading, counts: pwg.JobCounts | None, estimate: int | None,
                decision: Decision, gray: bool, duplex: bool) -> dict[str, Any]:
        """The job's ``analysis`` column, which Get-Job-Attributes shows (job-pages,
        job-impressions, job-media-sheets, their -col variants, ippproxy-cost-estimate)."""
        attributes: dict[str, int | str] = {}
        priced = None
        if counts is not None:
            attributes.update(counting.ipp_attributes(counts))
            priced = priced_json(counting.job_counts(counts))
        if estimate is not None:
            attributes["ippproxy-cost-estimate"] = self.accounting.money(estimate)
        return {"documents": [counting.analysis_json(a) for a in r.analyses],
                "counts": None if counts is None
                else counting.counts_json(counting.job_counts(counts)),
                "estimate": estimate, "currency": self.accounting.settings.currency,
                "account": r.account or decision.account or None,
                "policy": decision.reason, "grayscale": gray,
                PRINT_AS_OTHER: decision.print_as_other,
                "duplex": duplex, "attributes": attributes, "priced": priced}

    # -- reserve ---------------------------------------------------------------------------
    async def reserve(self, job_uuid: str, user: str, queue: str, r: Reading,
                      admission: Admission, *, defer: bool = False
                      ) -> PayerHold | Deferred | None:
        """Debit the price of the job as it will print; nothing for an uncountable or
        free job. A payer problem (no account where the queue needs one, an account
        unknown, not granted, closed or over its limit) is a hold, never a refusal
        (payer.py); any other accounting error refuses the job. ``defer`` (with the job
        store's group commit): the reservation is not made here but returned, for
        the job's creation to make first in its own transaction (storecommit.py);
        :meth:`deferred_failed` says what its failure means."""
        if admission.account is None and self._account_required(queue):
            return NO_ACCOUNT
        if admission.hold and admission.hold_reason in PAYER_REASONS:
            return None     # a rule asks the owner for the account: charged once answered
        if admission.counts is None or not admission.estimate:
            return None
        printer = self._at(queue, r.groups, admission.counts)
        counts = counting.job_counts(admission.counts)
        if defer and self.writer is not None:
            return Deferred(job_uuid, self.accounting.reservation(
                job_uuid, username=user, printer=printer, counts=counts,
                account_code=admission.account),
                f"account {admission.account}" if admission.account else f"user {user}",
                self.accounting.read_ahead)
        # Committed, not yet synced: the job's writes that follow are, before the answer
        # (storecommit.py)
        return await self._debit(job_uuid, user, printer, counts, admission.account,
                                 synced=False)

    async def deferred_failed(self, d: Deferred, error: Exception) -> PayerHold | None:
        """The job's creation failed with its deferred reservation: an accounting error
        is a hold for a payer problem and a refusal (Refused) otherwise; after a database
        error the reservation is made alone, the ledger's own way (which retries and
        replays), and None says it was: create the job again, without it."""
        if not isinstance(error, AccountingError):
            log.info("job %s: reservation run again alone after %s", d.job_uuid, error)
            try:
                await asyncio.to_thread(self.accounting.run, d.unit)
                return None
            except AccountingError as e:
                error = e
        return _payer_or_refusal(error)

    async def pay_held(self, job: JobRecord, pin: str | None = None) -> PayerHold | None:
        """Reserve the price of a job held for its payer, as it was counted at intake;
        the hold that still applies, or None (reserved, or nothing to reserve). ``pin``:
        the chosen shared account's PIN, as its owner answered (never stored)."""
        named = (job.analysis or {}).get("account")    # by the job, a rule or its owner
        account = account_of(blob.unpack(job.attributes)) or (
            named if isinstance(named, str) and named else None)
        chosen = bool((job.analysis or {}).get(CHOSEN))   # the owner answered "personal"
        if account is None and not chosen and self._account_required(job.queue):
            return NO_ACCOUNT
        counts = priced_counts(dict(job.analysis or {}))
        if counts is None or not (job.analysis or {}).get("estimate"):
            return None
        try:
            findme = (job.analysis or {}).get("findme")
            printer = findme.get("priced_at") if isinstance(findme, dict) else None
            return await self._debit(job.uuid, job.owner, printer
                                     if isinstance(printer, str) else job.queue, counts,
                                     account, pin)
        except Refused as e:   # e.g. the owner was disabled since: still nobody pays
            return PayerHold(PayerReason.AUTHORIZATION_FAILED, e.message)

    async def _debit(self, job_uuid: str, user: str, queue: str, counts: JobCounts,
                     account: str | None, pin: str | None = None, *, synced: bool = True
                     ) -> PayerHold | None:
        try:
            await self._reserve(job_uuid, user, queue, counts, account, pin, synced)
        except AccountingError as e:
            return _payer_or_refusal(e)
        return None

    async def _reserve(self, job_uuid: str, user: str, queue: str, counts: JobCounts,
                       account: str | None, pin: str | None, synced: bool) -> None:
        """The reservation, on disk when this returns, or committed (``synced`` False:
        storecommit.py)."""
        unit = self.accounting.reservation(job_uuid, username=user, printer=queue,
                                           counts=counts, account_code=account, pin=pin)
        await run_unit(self.writer, unit, lambda: self.accounting.run(unit),
                       f"job {job_uuid}: reservation", synced=synced)

    def _account_required(self, queue: str) -> bool:
        return any(q.account_required for q in self.config.queues if q.name == queue)


@dataclass(frozen=True)
class Deferred:
    """A reservation the job's creation makes first, in the same transaction: one batch
    of the job store's group commit, one commit and one sync for both (storecommit.py)."""

    job_uuid: str
    unit: Callable[[Connection], object]
    lock: str    # the account row it locks: a shared account's code, else its user's
    # What a batch reads for all its reservations at once (AccountingService.read_ahead)
    read_ahead: Callable[[Connection, Sequence[Callable[[Connection], object]]], None] | None


def _payer_or_refusal(e: AccountingError) -> PayerHold:
    hold = payer_hold(e)
    if hold is None:
        raise Refused(Status.CLIENT_ERROR_NOT_AUTHORIZED, str(e)) from None
    return hold


def account_of(attributes: Sequence[Attribute]) -> str | None:
    """``job-account-id`` (PWG 5100.3 §3.1.1), else CUPS's ``job-billing`` as its alias."""
    for name in ("job-account-id", "job-billing"):
        a = next((a for a in attributes if a.name == name), None)
        if a is not None and isinstance(a.value, str) and a.value.strip():
            return a.value.strip()
    return None


def _forced_out(attr: Attribute | None, gray: bool, duplex: bool
                ) -> tuple[tuple[Attribute, ...], tuple[str, ...]]:
    """The job's page overrides without what a rule forces for the whole job: (the
    overrides to store instead, or the name to remove)."""
    names = frozenset(n for n, forced in (("print-color-mode", gray), ("sides", duplex))
                      if forced)
    if attr is None or not names:
        return (), ()
    left = overrides.without(attr, names)
    return ((left,), ()) if left is not None else ((), (attr.name,))


def _head(path: Path) -> bytes:
    with open(path, "rb") as f:
        return f.read(detect.HEAD_BYTES)


def _has_colour(analyses: Sequence[DocumentAnalysis]) -> bool:
    return any(a.colour_pages is None or a.colour_pages for a in analyses)
