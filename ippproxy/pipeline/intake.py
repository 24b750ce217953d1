"""The intake hook: what a job is, what it costs, whether it may print, and its charge.

Theory of operation
-------------------
The server calls :meth:`IntakePipeline.decide` after the documents are durably spooled
and before the job row is committed and the client answered (server/hooks.py). Steps:

1. **Who.** The owner's canonical name (accounting.identity); an unknown user is
   created with the configured defaults, or refused (``unknown_users = "refuse"``).
2. **What.** The format is detected from the bytes (``application/octet-stream`` means
   detect; a contradicting ``document-format`` is client-error-document-format-error, an
   unknown format client-error-document-format-not-supported), then each document is
   analysed in the ``AnalysisPool`` (worker processes with limits, off the event loop).
3. **Counts.** The ticket (copies, sides, number-up, page-ranges, media) and the analyses
   give the PWG counts (filters/accounting.py); a document whose pages cannot be counted
   follows ``analysis.unknown_pages``.
4. **Rules.** The policy chain sees the counts, the user's groups and the estimate:
   deny becomes an IPP status and message; hold becomes pending-held; force grayscale and
   force duplex are applied (Print-Job: converted in the pool into a new spool document;
   always: ``print-color-mode=monochrome`` / ``sides`` on the forwarded job) and the job
   is re-counted and re-priced as it will print.
5. **Charge.** The price (the queue's cost model, the user's group multiplier) is
   reserved by job UUID (AccountingService.reserve, idempotent); a restricted account
   that cannot pay gets client-error-account-limit-reached with balance and cost.
6. **Record.** Counts and estimate go into the job's ``analysis`` column, which
   Get-Job-Attributes shows (job-impressions, job-media-sheets, their -col variants,
   job-pages, ippproxy-cost-estimate).

Blocking work (database, policy chain with its duplicate lookup) runs in threads; the
event loop only awaits. A reservation whose job row is never committed (the server
failed after ``decide``) is refunded by the settlement sweep (settle.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

from ippproxy.accounting import (
    AccessDenied,
    AccountingError,
    AccountingService,
    CreditRefused,
    JobCounts,
    NotFound,
)
from ippproxy.accounting import users as acct_users
from ippproxy.accounting.identity import canonical_name
from ippproxy.accounting.txn import in_transaction
from ippproxy.config import Config
from ippproxy.filters import counts as pwg
from ippproxy.filters import detect
from ippproxy.filters.errors import AnalysisError
from ippproxy.filters.model import DocumentAnalysis
from ippproxy.ipp import Attribute, DecodeError, Group, Message, Status, Tag, decode, encode
from ippproxy.jobs import writes
from ippproxy.jobs.records import NewDocument, load_job
from ippproxy.jobs.store import JobStore
from ippproxy.pipeline import counting
from ippproxy.pipeline.conversion import GRAYSCALE_INPUTS, Converter
from ippproxy.pipeline.quote import quote
from ippproxy.pipeline.refusal import Refused, analysis_refusal, policy_refusal
from ippproxy.policies import Action, Decision, JobFacts, PolicyChain
from ippproxy.server.hooks import IntakeDecision, IntakeFacts

log = logging.getLogger(__name__)
MONOCHROME = frozenset({"monochrome", "process-monochrome", "bi-level", "process-bi-level"})
HOLD_REASON = "job-hold-until-specified"


class IntakePipeline:
    """``IntakeHook`` for the server; one per server process."""

    reads_documents = True  # counts pages and colour in the files (IntakeFacts)

    def __init__(self, config: Config, accounting: AccountingService, converter: Converter,
                 chain: PolicyChain, store: JobStore | None = None) -> None:
        self.config = config
        self.accounting = accounting
        self.converter = converter
        self.pool = converter.pool
        self.chain = chain
        self.store = store

    async def quote(self, facts: IntakeFacts) -> str:
        return await quote(self.accounting, facts)

    async def decide(self, facts: IntakeFacts) -> IntakeDecision:
        if not facts.document_paths:
            return IntakeDecision.allow()
        created: list[NewDocument] = []
        try:
            return await self._decide(facts, created)
        except Refused as r:
            log.info("job %s of %s on %s refused: %s", facts.job_uuid or "-", facts.user,
                     facts.queue, r.message)
            for d in created:
                self.converter.spool.delete(d.spool_name)
            return IntakeDecision.deny(r.status, r.message)
        except BaseException:
            for d in created:
                self.converter.spool.delete(d.spool_name)
            raise

    # -- the steps ---------------------------------------------------------------------
    async def _user(self, raw: str) -> tuple[str, frozenset[str]]:
        try:
            user = canonical_name(raw)
        except ValueError as e:
            raise Refused(Status.CLIENT_ERROR_NOT_AUTHORIZED, f"bad user name: {e}") from None
        groups = await asyncio.to_thread(self._groups, user)
        if groups is None:  # not in the user store (or disabled): create or refuse
            try:
                uid = await asyncio.to_thread(self.accounting.ensure_user, user)
            except AccountingError as e:
                raise Refused(Status.CLIENT_ERROR_NOT_AUTHORIZED, str(e)) from None
            groups = await asyncio.to_thread(
                in_transaction, self.accounting.engine,
                lambda c: acct_users.user_groups(c, uid))
        return user, frozenset(groups)

    def _groups(self, user: str) -> list[str] | None:
        """The groups of a live, enabled user, in a read-only snapshot (no write lock);
        None when the user is unknown or disabled."""
        with self.accounting.engine.connect() as conn:
            conn.execution_options(sqlite_begin="DEFERRED")
            with conn.begin():
                row = acct_users.find_user(conn, user)
                if row is None or row._mapping["disabled"]:
                    return None
                return acct_users.user_groups(conn, row._mapping["id"])

    async def _analyse(self, path: Path, hint: str) -> DocumentAnalysis:
        head = await asyncio.to_thread(_head, path)
        try:
            fmt = detect.detect_format(head, hint)
            return await self.pool.analyse(path, fmt)
        except AnalysisError as e:
            raise analysis_refusal(e) from None

    async def _decide(self, facts: IntakeFacts, created: list[NewDocument]) -> IntakeDecision:
        user, groups = await self._user(facts.user)
        analyses = list(await asyncio.gather(
            *(self._analyse(p, facts.document_format) for p in facts.document_paths)))
        attrs = {a.name: a for a in facts.attributes}
        mode = attrs.get("print-color-mode")
        mono = mode is not None and mode.value in MONOCHROME
        ticket = counting.ticket(facts.attributes)
        counts = counting.count(analyses, ticket, grayscale=mono)
        estimate = self._estimate(groups, facts.queue, counts)
        decision = await asyncio.to_thread(self.chain.decide, self._facts(
            facts, user, groups, analyses, ticket, counts, estimate))
        if decision.action == Action.DENY:
            raise policy_refusal(decision)
        hold_message = decision.reason if decision.action == Action.HOLD else ""
        if counts is None:
            hold_message = hold_message or self._unknown_pages()
        gray = decision.force_grayscale and not mono and _has_colour(analyses)
        duplex = decision.force_duplex and ticket.sides == "one-sided"
        documents: tuple[NewDocument, ...] = ()
        if facts.operation == "Print-Job" and (gray or duplex):
            documents = await self._convert(facts, analyses, gray, duplex, created)
        if gray or duplex:
            ticket = replace(ticket, sides=counting.TWO_SIDED) if duplex else ticket
            counts = counting.count(analyses, ticket, grayscale=True if gray else mono)
            estimate = self._estimate(groups, facts.queue, counts)
        account = attrs.get("job-account-id")
        code = account.value if account is not None and isinstance(account.value, str) else None
        if counts is not None and estimate:
            await self._reserve(facts, user, counts, code)
        analysis = self._record(analyses, counts, estimate, decision, gray, duplex, code)
        overrides = counting.overrides(gray, duplex)
        if facts.operation != "Print-Job" and facts.job_uuid and self.store is not None:
            await self._update_job(facts.job_uuid, analysis, overrides)
        message = "; ".join(m for m in (hold_message or decision.reason,
                                        _cost_text(analysis)) if m)
        base = IntakeDecision(action="hold" if hold_message else "allow",
                              reason=HOLD_REASON if hold_message else "", message=message)
        return replace(base, overrides=overrides, documents=documents,
                       document_format=(documents[0].format or "") if documents
                       else analyses[0].format, analysis=analysis)

    def _unknown_pages(self) -> str:
        mode = self.config.analysis.unknown_pages
        text = "the pages of this document cannot be counted"
        if mode == "deny":
            raise Refused(Status.CLIENT_ERROR_DOCUMENT_FORMAT_NOT_SUPPORTED, text)
        return f"{text}; an operator must release it" if mode == "hold" else ""

    def _estimate(self, groups: frozenset[str], queue: str,
                  counts: pwg.JobCounts | None) -> int | None:
        """The price for a member of ``groups`` (what AccountingService.estimate and
        reserve compute, without a database round trip)."""
        if counts is None:
            return None
        return self.accounting.pricing.price(queue, groups, counts=counting.job_counts(counts))

    def _facts(self, facts: IntakeFacts, user: str, groups: frozenset[str],
               analyses: list[DocumentAnalysis], ticket: pwg.JobTicket,
               counts: pwg.JobCounts | None, estimate: int | None) -> JobFacts:
        colour = None
        if counts is not None and counts.impressions_col_total is not None:
            colour = counts.impressions_col_total > 0
        return JobFacts(
            job_uuid=facts.job_uuid, user=user, printer=facts.queue, groups=groups,
            document_format=analyses[0].format,
            sha256=facts.document_sha256[0] if facts.document_sha256 else "",
            size=sum(facts.document_sizes),
            pages=None if counts is None else counts.pages,
            impressions=None if counts is None else counts.impressions_total,
            copies=ticket.copies,
            media=frozenset(m.media for m in counts.per_media) if counts else frozenset(),
            color=colour, duplex=ticket.sides != "one-sided", cost=estimate)

    async def _convert(self, facts: IntakeFacts, analyses: list[DocumentAnalysis],
                       gray: bool, duplex: bool, created: list[NewDocument]
                       ) -> tuple[NewDocument, ...]:
        """Print-Job only (one document): the converted document, or () if none applies."""
        a, path = analyses[0], facts.document_paths[0]
        doc: NewDocument | None = None
        try:
            if gray and a.format in GRAYSCALE_INPUTS:
                doc = await self.converter.grayscale(path, facts.job_name)
                created.append(doc)
            if duplex and a.format == detect.POSTSCRIPT and doc is None:
                doc = await self.converter.ps_duplex(path, facts.job_name)
                created.append(doc)
        except AnalysisError as e:
            raise analysis_refusal(e, "conversion failed: ") from None
        return (doc,) if doc is not None else ()

    async def _reserve(self, facts: IntakeFacts, user: str, counts: pwg.JobCounts,
                       code: str | None) -> None:
        if not facts.job_uuid:
            log.warning("no job-uuid at intake: job of %s not charged at intake", user)
            return
        try:
            await asyncio.to_thread(
                self.accounting.reserve, facts.job_uuid, username=user, printer=facts.queue,
                counts=counting.job_counts(counts), account_code=code)
        except CreditRefused as e:
            raise Refused(Status.CLIENT_ERROR_ACCOUNT_LIMIT_REACHED, str(e)) from None
        except (AccessDenied, NotFound) as e:
            raise Refused(Status.CLIENT_ERROR_ACCOUNT_AUTHORIZATION_FAILED, str(e)) from None
        except AccountingError as e:
            raise Refused(Status.CLIENT_ERROR_NOT_AUTHORIZED, str(e)) from None

    def _record(self, analyses: list[DocumentAnalysis], counts: pwg.JobCounts | None,
                estimate: int | None, decision: Decision, gray: bool, duplex: bool,
                code: str | None) -> dict[str, Any]:
        attributes: dict[str, int | str] = {}
        if counts is not None:
            attributes.update(counting.ipp_attributes(counts))
        if estimate is not None:
            attributes["ippproxy-cost-estimate"] = self.accounting.money(estimate)
        return {"documents": [counting.analysis_json(a) for a in analyses],
                "estimate": estimate, "currency": self.accounting.settings.currency,
                "account": code, "policy": decision.reason, "grayscale": gray,
                "duplex": duplex, "attributes": attributes}

    async def _update_job(self, uuid: str, analysis: dict[str, Any],
                          overrides: tuple[Attribute, ...]) -> None:
        """Send-Document: the job row exists; store the analysis and forced options."""
        store = self.store
        assert store is not None

        def work(conn: Any) -> None:
            values: dict[str, Any] = {"analysis": analysis}
            if overrides:
                job = load_job(conn, uuid)
                if job is not None:
                    values["attributes"] = _with(job.attributes, overrides)
            writes.update_fields(conn, uuid, values, store.clock())
        await store.write(work)


def _head(path: Path) -> bytes:
    with open(path, "rb") as f:
        return f.read(detect.HEAD_BYTES)


def _has_colour(analyses: list[DocumentAnalysis]) -> bool:
    return any(a.colour_pages is None or a.colour_pages for a in analyses)


def _cost_text(analysis: dict[str, Any]) -> str:
    cost = analysis["attributes"].get("ippproxy-cost-estimate")
    return f"estimated cost {cost}" if cost else ""


def _with(blob: bytes, overrides: tuple[Attribute, ...]) -> bytes:
    """The stored job-attributes blob (server/job_blob.py format) with ``overrides`` set."""
    attrs: list[Attribute] = []
    if blob:
        with contextlib.suppress(DecodeError):
            group = decode(blob).group(Tag.JOB_ATTRIBUTES)
            attrs = list(group.attributes) if group is not None else []
    names = {o.name for o in overrides}
    attrs = [a for a in attrs if a.name not in names] + list(overrides)
    return encode(Message((2, 0), 0, 1, (Group(Tag.JOB_ATTRIBUTES, tuple(attrs)),)))


__all__ = ["IntakePipeline", "JobCounts"]
