"""Document operations of PWG 5100.5: Get-Document-Attributes and Get-Documents.

A job's documents are those the job store keeps (``JobRecord.documents``, numbered from 1
in the order they arrived). A document's state (document-state, PWG 5100.5 §5.3.14) follows
its job's: we forward a job and its documents as one unit. The
names that ``job_attrs.PRIVATE`` withholds from other users are withheld here too.
"""

from __future__ import annotations

from ippproxy.ipp import Attribute, DocumentState, Group, Operation, Status, Tag
from ippproxy.jobs.records import DocumentRecord, JobRecord
from ippproxy.jobs.state import JobState
from ippproxy.server import attrs as A
from ippproxy.server.context import OpRequest
from ippproxy.server.errors import IppError
from ippproxy.server.operation import OpSpec
from ippproxy.server.ops.common import target_job
from ippproxy.server.ops.jobs import private_for
from ippproxy.server.response import Reply
from ippproxy.server.sanitize import clean_text
from ippproxy.server.uris import job_uri, printer_uri

_STATE = {JobState.PENDING: DocumentState.PENDING, JobState.PENDING_HELD: DocumentState.PENDING,
          JobState.PROCESSING: DocumentState.PROCESSING,
          JobState.PROCESSING_STOPPED: DocumentState.PROCESSING_STOPPED,
          JobState.CANCELED: DocumentState.CANCELED, JobState.ABORTED: DocumentState.ABORTED,
          JobState.COMPLETED: DocumentState.COMPLETED}
_REASON = {DocumentState.PENDING: "none", DocumentState.PROCESSING: "none",
           DocumentState.PROCESSING_STOPPED: "printer-stopped",
           DocumentState.CANCELED: "document-canceled-by-user",
           DocumentState.ABORTED: "aborted-by-system",
           DocumentState.COMPLETED: "document-completed-successfully"}
# Get-Documents without requested-attributes (PWG 5100.5, as Get-Jobs' job-id default).
_GET_DOCUMENTS_DEFAULT = frozenset({"document-number"})
_PRIVATE = frozenset({"document-name-supplied"})


def document_attributes(req: OpRequest, job: JobRecord, doc: DocumentRecord,
                        last: bool) -> list[Attribute]:
    state = _STATE.get(JobState(job.state), DocumentState.PENDING)
    if state == DocumentState.CANCELED and "job-canceled-by-operator" in job.state_reasons:
        reason = "document-canceled-by-operator"
    else:
        reason = _REASON[state]
    out = [
        A.integer("document-number", doc.number),
        A.integer("document-job-id", job.job_id),
        A.uri("document-job-uri", job_uri(req.origin, job.queue, job.job_id)),
        A.uri("document-printer-uri", printer_uri(req.origin, job.queue)),
        A.enum("document-state", state),
        A.keyword("document-state-reasons", reason),
        A.mime("document-format", doc.format or "application/octet-stream"),
        A.integer("k-octets", (doc.size + 1023) // 1024),
        A.boolean("last-document", last),
        A.date_time("date-time-at-creation", doc.created_at),
        A.integer("time-at-creation", int(doc.created_at.timestamp())),
        A.keyword("compression", doc.compression or "none"),
    ]
    if doc.format:
        out.append(A.mime("document-format-supplied", doc.format))
    if doc.name:
        out.append(A.name_("document-name-supplied", clean_text(doc.name, 255)))
    return out


def _selected(req: OpRequest, job: JobRecord, doc: DocumentRecord, last: bool,
              default: frozenset[str] | None) -> Group:
    attrs = document_attributes(req, job, doc, last)
    wanted = A.requested_names(req.op("requested-attributes"))
    if wanted is None and default is not None:
        wanted = set(default)
    if wanted is not None and "all" not in wanted and "document-description" not in wanted \
            and "document-status" not in wanted:
        attrs = [a for a in attrs if a.name in wanted]
    if private_for(req, job):
        attrs = [a for a in attrs if a.name not in _PRIVATE]
    return Group(Tag.DOCUMENT_ATTRIBUTES, tuple(attrs))


async def get_document_attributes(req: OpRequest) -> Reply:
    job = await target_job(req)
    number = req.op("document-number")
    if number is None:
        raise IppError(Status.CLIENT_ERROR_BAD_REQUEST, "missing document-number")
    if number.tag != Tag.INTEGER or not isinstance(number.value, int):
        raise IppError(Status.CLIENT_ERROR_BAD_REQUEST, "document-number must be an integer")
    docs = sorted(job.documents, key=lambda d: d.number)
    doc = next((d for d in docs if d.number == number.value), None)
    if doc is None:
        raise IppError(Status.CLIENT_ERROR_NOT_FOUND,
                       f"job {job.job_id} has no document {number.value}")
    last = job.closed and doc is docs[-1]
    return Reply(groups=(_selected(req, job, doc, last, None),))


async def get_documents(req: OpRequest) -> Reply:
    job = await target_job(req)
    limit, first = req.op_value("limit"), req.op_value("first-index")
    if (limit is not None and (not isinstance(limit, int) or limit < 1)) or \
            (first is not None and (not isinstance(first, int) or first < 1)):
        raise IppError(Status.CLIENT_ERROR_BAD_REQUEST, "limit and first-index must be >= 1")
    docs = sorted(job.documents, key=lambda d: d.number)
    chosen = docs[(first - 1) if isinstance(first, int) else 0:]
    if isinstance(limit, int):
        chosen = chosen[:limit]
    return Reply(groups=tuple(
        _selected(req, job, d, job.closed and d is docs[-1], _GET_DOCUMENTS_DEFAULT)
        for d in chosen))


OPERATIONS: dict[int, OpSpec] = {
    Operation.GET_DOCUMENT_ATTRIBUTES: OpSpec("Get-Document-Attributes",
                                              get_document_attributes, target="job"),
    Operation.GET_DOCUMENTS: OpSpec("Get-Documents", get_documents, target="job"),
}
