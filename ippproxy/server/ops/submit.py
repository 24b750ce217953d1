"""Job submission: Print-Job, Validate-Job, Create-Job (RFC 8011 §4.2.1, §4.2.3, §4.2.4),
Send-Document (§4.3.1) and Close-Job (PWG 5100.18 §6.2).

Theory of operation. The handlers read the request — operation attributes, the job
group, the document stream, the user, the queue's printer attributes — into a plain
``Submission`` and call the intake pipeline (ippproxy.pipeline.intake: plan -> spool ->
analyse -> decide -> reserve -> create). A refusal of the pipeline (``Refused``) is
answered with its status and status-message, and with the attributes it names in the
unsupported group. ``successful-ok`` means the document and the job row are both durable.
What stays here is what only the server knows: the target job and its owner
(Send-Document, Close-Job) and who is told of a new job. Subscription events are not
posted here: server/subscriptions.py derives them from the job store, every node's.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import time
from collections.abc import AsyncIterator, Awaitable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TypeVar

from ippproxy.ipp import Attribute, Group, Operation, Status, Tag
from ippproxy.jobs.records import JobClosedError, JobNotFound, JobRecord
from ippproxy.jobs.state import InvalidTransition, JobEvent, JobState
from ippproxy.pipeline import Refused, Submission
from ippproxy.pipeline.identity import IDENTITY_NEEDED
from ippproxy.server import job_attrs
from ippproxy.server.context import OpRequest
from ippproxy.server.errors import IppError
from ippproxy.server.operation import OpSpec
from ippproxy.server.ops.common import check_owner, queue_of, submission_checks, target_job
from ippproxy.server.ops.holds import document_hold, submission_hold
from ippproxy.server.response import Reply, unsupported_group
from ippproxy.server.sanitize import clean_name

T = TypeVar("T")
log = logging.getLogger(__name__)
# Errors of a full or unwritable spool file system.
SPOOL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM})
ALERT_EVERY = 60.0
_alerted: dict[int, float] = {}   # errno -> when last alerted (monotonic)


def _name(req: OpRequest, name: str) -> str | None:
    v = req.op_value(name)
    return clean_name(v) if isinstance(v, str) else None


async def _submission(req: OpRequest, operation: str, job: JobRecord | None = None
                      ) -> Submission:
    q = queue_of(req)
    hold = document_hold(q, job) if job is not None else await submission_hold(req, q)
    job_group = req.msg.group(Tag.JOB_ATTRIBUTES)
    ops = req.msg.group(Tag.OPERATION_ATTRIBUTES)
    return Submission(
        release_hold=hold.reason, pin_hash=hold.pin_hash,
        queue=q.name, user=req.user, operation=operation,
        checks=await submission_checks(req, q), accepting=q.accepting,
        operation_attributes=ops.attributes if ops is not None else (),
        job_attributes=job_group.attributes if job_group is not None else (),
        job_name=_name(req, "job-name") or _name(req, "document-name") or "",
        document_name=_name(req, "document-name") or None,
        originating_host=_name(req, "job-originating-host-name"), body=req.body,
        peer_address=req.origin.peer or None,
        unproven=_unproven(req))


async def _run(step: Awaitable[T]) -> T:
    """The pipeline's refusals as IPP errors; a full or unwritable spool as a temporary
    error (the client may retry later, RFC 8011 §B.1.5.6) and an alert for the admin."""
    try:
        return await step
    except Refused as r:
        raise IppError(r.status, r.message, r.unsupported) from None
    except OSError as e:
        if e.errno not in SPOOL_ERRNOS:
            raise
        _alert(e)
        raise IppError(Status.SERVER_ERROR_TEMPORARY_ERROR,
                       "spool full or not writable; try again later") from None


def _alert(e: OSError) -> None:
    """One line for the admin (no path, no traceback), at most once per ALERT_EVERY."""
    now = time.monotonic()
    if now - _alerted.get(e.errno or 0, float("-inf")) >= ALERT_EVERY:
        _alerted[e.errno or 0] = now
        log.error("ADMIN ALERT: spool full or not writable (%s); job submissions are "
                  "refused with server-error-temporary-error until there is room",
                  e.strerror)


def _reply(req: OpRequest, unsupported: tuple[Attribute, ...], job: JobRecord | None,
           message: str = "") -> Reply:
    groups: list[Group] = []
    if unsupported:
        groups.append(unsupported_group(unsupported))
    if job is not None:
        groups.append(Group(Tag.JOB_ATTRIBUTES, tuple(job_attrs.creation_group(job,
                                                                             req.origin))))
    status = (Status.SUCCESSFUL_OK_IGNORED_OR_SUBSTITUTED_ATTRIBUTES if unsupported
              else Status.SUCCESSFUL_OK)
    return Reply(status=status, message=message, groups=tuple(groups))


def _too_many(req: OpRequest) -> IppError:
    """A user's jobs not yet completed are capped (cupsd MaxJobsPerUser):
    server-error-too-many-jobs (PWG 5100.7 §8.2, IANA IPP registry)."""
    return IppError(Status.SERVER_ERROR_TOO_MANY_JOBS,
                    f"{req.user} already has {req.ctx.config.server.max_jobs_per_user} jobs "
                    "not yet completed; wait for some to finish")


@asynccontextmanager
async def _admitted(req: OpRequest) -> AsyncIterator[None]:
    """One more job under the server's cap on all jobs not yet completed (cupsd's
    MaxActiveJobs: server-error-busy, RFC 8011 §B.1.6.8, the client retries later) and
    under its user's."""
    server, receiving = req.ctx.config.server, req.ctx.receiving
    async with receiving.admit_any(server.max_active_jobs,
                                   req.ctx.store.count_active_jobs) as fits:
        if not fits:
            raise IppError(Status.SERVER_ERROR_BUSY,
                           f"the server already holds {server.max_active_jobs} jobs not yet "
                           "completed; try again later")
        async with _user_cap(req) as fits:
            if not fits:
                raise _too_many(req)
            yield


def _user_cap(req: OpRequest) -> AbstractAsyncContextManager[bool]:
    """``server.max_jobs_per_user`` for the job's user. A "popup" queue's job that proves
    nobody only claims a name: it counts against the network address it came from, and
    such jobs never count against the name they claim (anyone could fill a user's cap by
    claiming their name)."""
    store, cap = req.ctx.store, req.ctx.config.server.max_jobs_per_user
    if _unproven(req):
        peer = req.origin.peer or ""
        return req.ctx.receiving.admit_from(
            peer, cap, lambda: store.count_held_from(IDENTITY_NEEDED, peer))
    return req.ctx.receiving.admit(
        req.user, cap, lambda: store.count_owned_jobs(req.user, not_held_for=IDENTITY_NEEDED))


def _unproven(req: OpRequest) -> bool:
    """A job on a queue with ``authentication = "popup"`` sent without credentials."""
    return queue_of(req).config.authentication == "popup" and not req.identity.proven


async def print_job(req: OpRequest) -> Reply:
    async with _admitted(req):
        done = await _run(req.ctx.intake.print_job(await _submission(req, "Print-Job")))
    req.ctx.notifier.job_changed(done.job.uuid)
    return _reply(req, done.unsupported, done.job)


async def validate_job(req: OpRequest) -> Reply:
    v = await _run(req.ctx.intake.validate(await _submission(req, "Validate-Job")))
    return _reply(req, v.unsupported, None, v.message)


async def create_job(req: OpRequest) -> Reply:
    async with _admitted(req):
        done = await _run(req.ctx.intake.create_job(await _submission(req, "Create-Job")))
    return _reply(req, done.unsupported, done.job)


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
    sub = await _submission(req, "Send-Document", job)
    try:
        job = await _run(req.ctx.intake.send_document(sub, job, last=last.value is True))
    except (Exception, asyncio.CancelledError) as e:
        # The job's one document failed: the job would wait for it for ever (job-incoming).
        # Aborted at once, with the reason (RFC 8011 §5.3.8, PWG 5100.7 §5.1.7.2).
        await asyncio.shield(_abort_unfinished(req, job, e))
        raise
    if last.value is True:
        req.ctx.notifier.job_changed(job.uuid)
    return _reply(req, (), job)


async def _abort_unfinished(req: OpRequest, job: JobRecord, cause: BaseException) -> None:
    what = cause.message if isinstance(cause, IppError) else "the document was not received"
    try:
        aborted = await req.ctx.store.transition(
            job.uuid, JobEvent.ABORT, reasons=("aborted-by-system", "submission-interrupted"),
            message=f"Send-Document failed: {what}")
    except (InvalidTransition, JobNotFound):
        return      # cancelled or ended meanwhile
    req.ctx.notifier.job_changed(aborted.uuid)


async def close_job(req: OpRequest) -> Reply:
    job = await _open_job(req)
    try:
        job = await req.ctx.store.close_job(job.uuid)
    except JobClosedError:
        raise IppError(Status.CLIENT_ERROR_NOT_POSSIBLE,
                       f"job {job.job_id} is already closed") from None
    req.ctx.notifier.job_changed(job.uuid)
    return _reply(req, (), job)


OPERATIONS: dict[int, OpSpec] = {
    Operation.PRINT_JOB: OpSpec("Print-Job", print_job, intake=True),
    Operation.VALIDATE_JOB: OpSpec("Validate-Job", validate_job),
    Operation.CREATE_JOB: OpSpec("Create-Job", create_job, intake=True),
    Operation.SEND_DOCUMENT: OpSpec("Send-Document", send_document, target="job",
                                    intake=True),
    Operation.CLOSE_JOB: OpSpec("Close-Job", close_job, target="job"),
}
