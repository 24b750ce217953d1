"""Job submission: Print-Job, Validate-Job, Create-Job (RFC 8011 §4.2.1, §4.2.3, §4.2.4),
Send-Document (§4.3.1) and Close-Job (PWG 5100.18 §6.2).

Theory of operation. ``_plan()`` does every check that needs no document: accepting jobs,
document-format, compression, job-template attributes against the queue's capabilities
(ipp-attribute-fidelity decides between rejecting and ignoring, RFC 8011 §4.1.7). Then the
document streams into the spool (``_spool``), which decompresses, hashes, enforces the size
limit and fsyncs (a small document is kept in memory instead: its bytes are committed with
the job row and live in the job store, jobs/spool.py). The intake hook decides (allow /
hold / deny); only then is the job row committed (the store's group commit) and the client
answered: ``successful-ok`` therefore means the document and the row are both durable. Any failure after spooling deletes the file.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from ippproxy.ipp import Attribute, Group, Operation, Status, Tag
from ippproxy.jobs.ids import new_uuid
from ippproxy.jobs.records import JobClosedError, JobRecord, NewDocument
from ippproxy.jobs.spool import SpoolCompressionError, SpoolLimitExceeded
from ippproxy.jobs.state import INCOMING_REASONS, JobState
from ippproxy.server import job_attrs, template
from ippproxy.server.context import OpRequest
from ippproxy.server.errors import IppError
from ippproxy.server.hooks import IntakeDecision, IntakeFacts
from ippproxy.server.job_blob import pack
from ippproxy.server.operation import OpSpec
from ippproxy.server.ops.common import (
    Capabilities,
    capabilities,
    check_owner,
    queue_of,
    target_job,
)
from ippproxy.server.printer_attrs import AUTO_FORMAT, COMPRESSIONS
from ippproxy.server.response import Reply, unsupported_group
from ippproxy.server.sanitize import clean_name

# Operation attributes that carry job-template values in practice (CUPS, ipptool).
_OP_TEMPLATE = ("job-hold-until",)


@dataclass(frozen=True)
class Plan:
    attributes: tuple[Attribute, ...]        # accepted job attributes (stored)
    unsupported: tuple[Attribute, ...]       # echoed in the unsupported group
    document_format: str
    compression: str
    job_name: str
    hold_until: str | None

    @property
    def status(self) -> int:
        return (Status.SUCCESSFUL_OK_IGNORED_OR_SUBSTITUTED_ATTRIBUTES if self.unsupported
                else Status.SUCCESSFUL_OK)

    def groups(self, job: JobRecord | None, authority: str) -> tuple[Group, ...]:
        out: list[Group] = []
        if self.unsupported:
            out.append(unsupported_group(self.unsupported))
        if job is not None:
            out.append(Group(Tag.JOB_ATTRIBUTES, tuple(job_attrs.creation_group(job, authority))))
        return tuple(out)


def _str(req: OpRequest, name: str) -> str | None:
    v = req.op_value(name)
    return v if isinstance(v, str) else None


def _check_document(req: OpRequest, caps: Capabilities) -> tuple[str, str]:
    """document-format and compression (RFC 8011 §4.1.7 / §5.4.32)."""
    fmt = _str(req, "document-format") or AUTO_FORMAT
    if fmt not in caps.formats:
        raise IppError(Status.CLIENT_ERROR_DOCUMENT_FORMAT_NOT_SUPPORTED,
                       f"document-format {fmt[:64]!r} is not supported",
                       tuple(a for a in (req.op("document-format"),) if a is not None))
    compression = _str(req, "compression") or "none"
    if compression not in COMPRESSIONS:
        raise IppError(Status.CLIENT_ERROR_COMPRESSION_NOT_SUPPORTED,
                       f"compression {compression[:32]!r} is not supported",
                       tuple(a for a in (req.op("compression"),) if a is not None))
    return fmt, compression


async def _plan(req: OpRequest, with_document: bool) -> Plan:
    q = queue_of(req)
    if not q.accepting:
        raise IppError(Status.SERVER_ERROR_NOT_ACCEPTING_JOBS,
                       f"{q.name} is not accepting jobs")
    caps = await capabilities(req, q)
    fmt, compression = AUTO_FORMAT, "none"
    if with_document:
        fmt, compression = _check_document(req, caps)
    job_group = req.msg.group(Tag.JOB_ATTRIBUTES)
    requested = list(job_group.attributes) if job_group is not None else []
    for name in _OP_TEMPLATE:
        a = req.op(name)
        if a is not None and name not in {r.name for r in requested}:
            requested.append(a)
    kept, unsupported = template.check(requested, caps.by_name)
    fidelity = req.op_value("ipp-attribute-fidelity") is True
    if unsupported and fidelity:
        raise IppError(Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED,
                       "unsupported job attributes: "
                       + ", ".join(a.name for a in unsupported)[:200], tuple(unsupported))
    hold = next((a.value for a in kept if a.name == "job-hold-until"), None)
    name = _str(req, "job-name") or _str(req, "document-name") or "untitled"
    return Plan(tuple(a for a in kept if a.name not in template.DESCRIPTION
                      or a.name in ("job-account-id", "job-accounting-user-id")),
                tuple(unsupported), fmt, compression, clean_name(name) or "untitled",
                hold if isinstance(hold, str) else None)


async def _spool(req: OpRequest, compression: str, fmt: str) -> NewDocument:
    spool = req.ctx.spool
    try:
        async with spool.writer(compression, copy=True) as w:
            async for chunk in req.body:
                await w.write(chunk)
    except SpoolLimitExceeded:
        raise IppError(Status.CLIENT_ERROR_REQUEST_ENTITY_TOO_LARGE,
                       "document is larger than this server accepts") from None
    except SpoolCompressionError as e:
        raise IppError(Status.CLIENT_ERROR_COMPRESSION_ERROR,
                       f"cannot decompress the document ({compression}): {e}"[:200]) from None
    name = _str(req, "document-name")
    return NewDocument(spool_name=w.name, size=w.size, sha256=w.sha256, format=fmt,
                       name=clean_name(name) if name else None, compression=compression,
                       content=w.content)  # committed with the job: see jobs/spool.py


async def _paths(req: OpRequest, docs: list[NewDocument]) -> tuple[Path, ...]:
    """The documents as files, for an intake hook that reads them. A small document has
    none yet (it lives in memory until it is committed with the job: jobs/spool.py)."""
    spool = req.ctx.spool
    if not getattr(req.ctx.intake, "reads_documents", True):
        return ()  # the hook looks at sizes and digests at most
    paths = []
    for d in docs:
        if d.content is not None:  # not committed yet: its bytes are only here
            await asyncio.to_thread(spool.write_unsynced, d.spool_name, d.content)
            paths.append(spool.path(d.spool_name))
        else:
            paths.append(await spool.ensure_file(d.spool_name))
    return tuple(paths)


async def _decide(req: OpRequest, plan: Plan, docs: list[NewDocument], op: str,
                  job_uuid: str = "") -> IntakeDecision:
    facts = IntakeFacts(
        queue=queue_of(req).name, user=req.user, job_name=plan.job_name, operation=op,
        document_format=plan.document_format,
        document_paths=await _paths(req, docs),
        document_sizes=tuple(d.size for d in docs),
        document_sha256=tuple(d.sha256 for d in docs),
        attributes=plan.attributes, job_uuid=job_uuid)
    decision = await req.ctx.intake.decide(facts)
    if decision.action == "deny":
        raise IppError(decision.status or Status.CLIENT_ERROR_NOT_POSSIBLE,
                       decision.message or "the job was refused by policy")
    return decision


def _apply(plan: Plan, decision: IntakeDecision) -> tuple[tuple[Attribute, ...], str | None,
                                                          tuple[str, ...] | None]:
    attrs = list(plan.attributes)
    for o in decision.overrides:
        attrs = [a for a in attrs if a.name != o.name] + [o]
    hold = plan.hold_until
    reasons = None
    if decision.action == "hold":
        hold = hold if hold not in (None, "no-hold") else "indefinite"
        reasons = (decision.reason or "job-hold-until-specified",)
    return tuple(attrs), hold, reasons


def _host(req: OpRequest) -> str | None:
    v = req.op_value("job-originating-host-name")
    return clean_name(v) if isinstance(v, str) else None


async def print_job(req: OpRequest) -> Reply:
    plan = await _plan(req, with_document=True)
    doc = await _spool(req, plan.compression, plan.document_format)
    job_uuid = new_uuid()  # known to the intake hook (charges are keyed by it)
    replaced: tuple[NewDocument, ...] = ()
    try:
        decision = await _decide(req, plan, [doc], "Print-Job", job_uuid)
        replaced = decision.documents
        attrs, hold, reasons = _apply(plan, decision)
        job = await req.ctx.store.create_job(
            queue_of(req).name, owner=req.user, name=plan.job_name, attributes=pack(attrs),
            document_format=decision.document_format or plan.document_format,
            hold_until=hold, documents=replaced or (doc,), closed=True, reasons=reasons,
            message=decision.message or None, originating_host=_host(req),
            analysis=dict(decision.analysis) if decision.analysis else None, uuid=job_uuid)
    except BaseException:
        for d in (doc, *replaced):
            req.ctx.spool.delete(d.spool_name)
        raise
    if replaced:
        req.ctx.spool.delete(doc.spool_name)
    req.ctx.notifier.job_changed(job.uuid)
    _event(req, job, "job-created")
    return Reply(status=plan.status, groups=plan.groups(job, req.authority))


async def validate_job(req: OpRequest) -> Reply:
    plan = await _plan(req, with_document=True)
    quote = await req.ctx.intake.quote(IntakeFacts(
        queue=queue_of(req).name, user=req.user, job_name=plan.job_name,
        operation="Validate-Job", document_format=plan.document_format,
        attributes=(*plan.attributes, *(a for a in (req.op("job-impressions"),
                                                    req.op("job-pages")) if a is not None))))
    return Reply(status=plan.status, message=quote, groups=plan.groups(None, req.authority))


async def create_job(req: OpRequest) -> Reply:
    plan = await _plan(req, with_document=False)
    job = await req.ctx.store.create_job(
        queue_of(req).name, owner=req.user, name=plan.job_name, attributes=pack(plan.attributes),
        hold_until=plan.hold_until, closed=False,
        reasons=INCOMING_REASONS if plan.hold_until in (None, "no-hold") else None,
        originating_host=_host(req))
    _event(req, job, "job-created")
    return Reply(status=plan.status, groups=plan.groups(job, req.authority))


async def _open_job(req: OpRequest) -> JobRecord:
    job = await target_job(req)
    check_owner(req, job)
    if job.state in (JobState.CANCELED, JobState.ABORTED):
        raise IppError(Status.SERVER_ERROR_JOB_CANCELED if job.state == JobState.CANCELED
                       else Status.CLIENT_ERROR_NOT_POSSIBLE,
                       f"job {job.job_id} is {job.state.keyword}")
    if job.closed or job.is_terminal:
        raise IppError(Status.CLIENT_ERROR_NOT_POSSIBLE,
                       f"job {job.job_id} already received its last document")
    return job


async def send_document(req: OpRequest) -> Reply:
    last = req.op("last-document")
    if last is None or last.tag != Tag.BOOLEAN:
        raise IppError(Status.CLIENT_ERROR_BAD_REQUEST, "missing last-document")
    job = await _open_job(req)
    if job.documents:   # multiple-document-jobs-supported is false (RFC 8011 §4.3.1)
        raise IppError(Status.SERVER_ERROR_MULTIPLE_DOCUMENT_JOBS_NOT_SUPPORTED,
                       f"job {job.job_id} already has its document; send one per job")
    fmt, compression = _check_document(req, await capabilities(req))
    doc = await _spool(req, compression, fmt)
    try:
        if last.value is True:
            plan = Plan((), (), fmt, compression, job.name or "untitled", job.hold_until)
            docs = [*[NewDocument(d.spool_name, d.size, d.sha256, d.format, d.name)
                      for d in job.documents], doc]
            decision = await _decide(req, plan, docs, "Send-Document", job.uuid)
            if decision.action == "hold" and job.state == JobState.PENDING:
                job = await req.ctx.store.add_document(job.uuid, doc, last=True)
                job = await _hold(req, job, decision)
            else:
                job = await req.ctx.store.add_document(job.uuid, doc, last=True)
        else:
            job = await req.ctx.store.add_document(job.uuid, doc, last=False)
    except JobClosedError:
        req.ctx.spool.delete(doc.spool_name)
        raise IppError(Status.CLIENT_ERROR_NOT_POSSIBLE,
                       f"job {job.job_id} already received its last document") from None
    except BaseException:
        req.ctx.spool.delete(doc.spool_name)
        raise
    if last.value is True:
        req.ctx.notifier.job_changed(job.uuid)
    return Reply(groups=(Group(Tag.JOB_ATTRIBUTES,
                               tuple(job_attrs.creation_group(job, req.authority))),))


async def _hold(req: OpRequest, job: JobRecord, decision: IntakeDecision) -> JobRecord:
    from ippproxy.jobs.state import JobEvent
    return await req.ctx.store.transition(
        job.uuid, JobEvent.HOLD, reasons=(decision.reason or "job-hold-until-specified",),
        message=decision.message or None, hold_until="indefinite")


async def close_job(req: OpRequest) -> Reply:
    job = await _open_job(req)
    try:
        job = await req.ctx.store.close_job(job.uuid)
    except JobClosedError:
        raise IppError(Status.CLIENT_ERROR_NOT_POSSIBLE,
                       f"job {job.job_id} is already closed") from None
    req.ctx.notifier.job_changed(job.uuid)
    return Reply(groups=(Group(Tag.JOB_ATTRIBUTES,
                               tuple(job_attrs.creation_group(job, req.authority))),))


def _event(req: OpRequest, job: JobRecord, event: str) -> None:
    if req.ctx.subscriptions is not None:
        req.ctx.subscriptions.job_event(job, event)


OPERATIONS: dict[int, OpSpec] = {
    Operation.PRINT_JOB: OpSpec("Print-Job", print_job, intake=True),
    Operation.VALIDATE_JOB: OpSpec("Validate-Job", validate_job),
    Operation.CREATE_JOB: OpSpec("Create-Job", create_job, intake=True),
    Operation.SEND_DOCUMENT: OpSpec("Send-Document", send_document, target="job",
                                    intake=True),
    Operation.CLOSE_JOB: OpSpec("Close-Job", close_job, target="job"),
}
