"""IPP operations of the virtual printer (RFC 8011 §4.2-4.3), one function each.

Each handler takes the printer, the decoded request, and (for the operations
that carry a document) the body stream positioned after end-of-attributes; it
returns ``(status, operation attributes, other groups)``. Anything the
printer-side state machine needs lives on the printer (``model.PrinterModel``, what
printer.py implements); this module does not import printer.py.
"""

from __future__ import annotations

import uuid as uuidlib
from collections.abc import Awaitable, Callable

from ippproxy.ipp import Attribute, Group, JobState, Message, Operation, Status, Tag
from ippproxy.virtualprinter.attributes import EXPLICIT_ONLY
from ippproxy.virtualprinter.job import VirtualJob
from ippproxy.virtualprinter.model import BodyReader, PrinterModel

Reply = tuple[int, list[Attribute], list[Group]]
Handler = Callable[[PrinterModel, Message, BodyReader], Awaitable[Reply]]

NOT_COMPLETED = frozenset({JobState.PENDING, JobState.PENDING_HELD, JobState.PROCESSING,
                           JobState.PROCESSING_STOPPED})
_JOB_CREATION = (Operation.PRINT_JOB, Operation.CREATE_JOB, Operation.VALIDATE_JOB)


def op_str(msg: Message, name: str, default: str = "") -> str:
    attr = msg.get(Tag.OPERATION_ATTRIBUTES, name)
    return attr.value if attr is not None and isinstance(attr.value, str) else default


def op_int(msg: Message, name: str) -> int | None:
    attr = msg.get(Tag.OPERATION_ATTRIBUTES, name)
    if attr is None or isinstance(attr.value, bool) or not isinstance(attr.value, int):
        return None
    return attr.value


def _job_value(msg: Message, name: str) -> object:
    attr = msg.get(Tag.JOB_ATTRIBUTES, name)
    return None if attr is None else attr.value


def _error(status: int, message: str) -> Reply:
    return status, [Attribute.single("status-message", Tag.TEXT, message)], []


def _precheck(p: PrinterModel, msg: Message) -> Reply | None:
    """Busy / not accepting / unsupported format, for job-creating operations."""
    if p.fault == "busy":
        return _error(Status.SERVER_ERROR_BUSY, "Printer is busy.")
    if not p.accepting:
        return _error(Status.SERVER_ERROR_NOT_ACCEPTING_JOBS, "Printer is not accepting jobs.")
    fmt = op_str(msg, "document-format", "application/octet-stream")
    if msg.code != Operation.CREATE_JOB and fmt not in p.formats:
        return _error(Status.CLIENT_ERROR_DOCUMENT_FORMAT_NOT_SUPPORTED,
                      f"Unsupported document-format {fmt!r}.")
    return None


async def _new_job(p: PrinterModel, msg: Message) -> VirtualJob:
    job_uuid = _job_value(msg, "job-uuid")
    if not (isinstance(job_uuid, str) and job_uuid.startswith("urn:uuid:")):
        job_uuid = f"urn:uuid:{uuidlib.uuid4()}"
    copies = _job_value(msg, "copies")
    sides = _job_value(msg, "sides")
    job = VirtualJob(
        job_id=await p.next_job_id(), uuid=job_uuid,
        name=op_str(msg, "job-name", "Untitled"),
        user=op_str(msg, "requesting-user-name", "anonymous"),
        copies=copies if isinstance(copies, int) and not isinstance(copies, bool)
        and 1 <= copies <= 999 else 1,
        sides=sides if isinstance(sides, str) and sides in p.sides else "one-sided",
        document_format=op_str(msg, "document-format", "application/octet-stream"),
    )
    p.jobs[job.job_id] = job
    return job


def _job_reply(p: PrinterModel, job: VirtualJob) -> Reply:
    keep = {"job-id", "job-uri", "job-uuid", "job-state", "job-state-reasons",
            "job-state-message"}
    attrs = [a for a in job.attributes(p.uri) if a.name in keep]
    return Status.SUCCESSFUL_OK, [], [Group(Tag.JOB_ATTRIBUTES, tuple(attrs))]


async def print_job(p: PrinterModel, msg: Message, body: BodyReader) -> Reply:
    if (err := _precheck(p, msg)) is not None:
        return err
    job = await _new_job(p, msg)
    await p.receive_document(job, body, op_str(msg, "compression", "none"))
    p.lose_response_if_armed("Print-Job")
    return _job_reply(p, job)


async def validate_job(p: PrinterModel, msg: Message, body: BodyReader) -> Reply:
    if (err := _precheck(p, msg)) is not None:
        return err
    return Status.SUCCESSFUL_OK, [], []


async def create_job(p: PrinterModel, msg: Message, body: BodyReader) -> Reply:
    if (err := _precheck(p, msg)) is not None:
        return err
    job = await _new_job(p, msg)
    job.reasons = ("job-incoming",)
    p.lose_response_if_armed("Create-Job")
    return _job_reply(p, job)


def _find_job(p: PrinterModel, msg: Message) -> VirtualJob | Reply:
    job_id = op_int(msg, "job-id")
    if job_id is None:
        uri = op_str(msg, "job-uri")
        tail = uri.rsplit("/", 1)[-1]
        job_id = int(tail) if tail.isdigit() else None
    if job_id is None:
        return _error(Status.CLIENT_ERROR_BAD_REQUEST, "Missing job-id.")
    job = p.jobs.get(job_id)
    if job is None:
        return _error(Status.CLIENT_ERROR_NOT_FOUND, f"Job #{job_id} does not exist.")
    return job


async def send_document(p: PrinterModel, msg: Message, body: BodyReader) -> Reply:
    job = _find_job(p, msg)
    if not isinstance(job, VirtualJob):
        return job
    if job.terminal or job.documents:
        return _error(Status.CLIENT_ERROR_NOT_POSSIBLE, f"Job #{job.job_id} is not open.")
    fmt = op_str(msg, "document-format", "application/octet-stream")
    if fmt not in p.formats:
        return _error(Status.CLIENT_ERROR_DOCUMENT_FORMAT_NOT_SUPPORTED,
                      f"Unsupported document-format {fmt!r}.")
    job.document_format = fmt
    await p.receive_document(job, body, op_str(msg, "compression", "none"))
    p.lose_response_if_armed("Send-Document")
    return _job_reply(p, job)


async def cancel_job(p: PrinterModel, msg: Message, body: BodyReader) -> Reply:
    job = _find_job(p, msg)
    if not isinstance(job, VirtualJob):
        return job
    if job.terminal:
        return _error(Status.CLIENT_ERROR_NOT_POSSIBLE,
                      f"Job #{job.job_id} is already {JobState.keyword_of(job.state)}.")
    p.cancel(job)
    return Status.SUCCESSFUL_OK, [], []


def _requested(msg: Message) -> set[str] | None:
    attr = msg.get(Tag.OPERATION_ATTRIBUTES, "requested-attributes")
    return None if attr is None else {v for v in attr.plain if isinstance(v, str)}


def _filter(attrs: list[Attribute], requested: set[str] | None) -> tuple[Attribute, ...]:
    if requested is None or "all" in requested:
        return tuple(attrs)
    return tuple(a for a in attrs if a.name in requested)


async def get_job_attributes(p: PrinterModel, msg: Message, body: BodyReader) -> Reply:
    job = _find_job(p, msg)
    if not isinstance(job, VirtualJob):
        return job
    attrs = _filter(job.attributes(p.uri), _requested(msg))
    return Status.SUCCESSFUL_OK, [], [Group(Tag.JOB_ATTRIBUTES, attrs)]


async def get_jobs(p: PrinterModel, msg: Message, body: BodyReader) -> Reply:
    which = op_str(msg, "which-jobs", "not-completed")
    limit = op_int(msg, "limit")
    requested = _requested(msg) or {"job-id", "job-uri"}
    if not p.list_job_uuid:
        requested.discard("job-uuid")
        requested.discard("all")
    jobs = sorted(p.jobs.values(), key=lambda j: j.job_id, reverse=True)
    if which == "completed":
        jobs = [j for j in jobs if j.terminal]
    elif which == "not-completed":
        jobs = [j for j in jobs if j.state in NOT_COMPLETED]
    elif which != "all":
        return _error(Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED,
                      f"which-jobs {which!r} is not supported.")
    if limit is not None and limit > 0:
        jobs = jobs[:limit]
    groups = []
    for j in jobs:
        attrs = _filter(j.attributes(p.uri), requested)
        if not p.list_job_uuid:
            attrs = tuple(a for a in attrs if a.name != "job-uuid")
        groups.append(Group(Tag.JOB_ATTRIBUTES, attrs))
    return Status.SUCCESSFUL_OK, [], groups


async def get_printer_attributes(p: PrinterModel, msg: Message, body: BodyReader) -> Reply:
    requested = _requested(msg)
    attrs = p.printer_attributes()
    if requested is None or requested & {"all", "printer-description", "job-template"}:
        explicit = requested or set()
        attrs = [a for a in attrs if a.name not in EXPLICIT_ONLY or a.name in explicit]
    else:
        attrs = [a for a in attrs if a.name in requested]
    return Status.SUCCESSFUL_OK, [], [Group(Tag.PRINTER_ATTRIBUTES, tuple(attrs))]


HANDLERS: dict[int, Handler] = {
    Operation.PRINT_JOB: print_job,
    Operation.VALIDATE_JOB: validate_job,
    Operation.CREATE_JOB: create_job,
    Operation.SEND_DOCUMENT: send_document,
    Operation.CANCEL_JOB: cancel_job,
    Operation.GET_JOB_ATTRIBUTES: get_job_attributes,
    Operation.GET_JOBS: get_jobs,
    Operation.GET_PRINTER_ATTRIBUTES: get_printer_attributes,
}
