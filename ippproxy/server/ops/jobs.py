"""Job operations: Cancel-Job, Get-Job-Attributes, Get-Jobs, Hold-Job, Release-Job,
Restart-Job, Purge-Jobs (RFC 8011 §4.2.6, §4.3.3-4.3.7, §4.3.9), Set-Job-Attributes
(RFC 3380 §4.2), Cancel-Jobs and Cancel-My-Jobs (PWG 5100.11 §4.1, §4.2), Cancel-Current-Job
(RFC 3998).

Get-Jobs, Cancel-Jobs, Cancel-My-Jobs and Purge-Jobs addressed at the server's root
(``ipp://host/``, as ``lpstat -o``, ``cancel -a`` and ``cancel -a -x`` send them) act on
every queue (server/cupsnames.py)."""

from __future__ import annotations

from dataclasses import replace

from ippproxy.ipp import Attribute, Group, Operation, Status, Tag
from ippproxy.jobs.records import JobRecord
from ippproxy.jobs.state import InvalidTransition, JobEvent, JobState, can
from ippproxy.pipeline.identity import IDENTITY_NEEDED
from ippproxy.pipeline.payer import RELEASE_STATUS
from ippproxy.pipeline.release import RELEASE_HELD
from ippproxy.server import attrs as A
from ippproxy.server import job_attrs
from ippproxy.server.context import OpRequest
from ippproxy.server.errors import IppError
from ippproxy.server.operation import OpSpec
from ippproxy.server.ops.common import check_owner, is_admin, queue_of, target_job
from ippproxy.server.ops.released import refusal, refuse_held, release_held
from ippproxy.server.printer_attrs import HOLD_UNTIL, WHICH_JOBS
from ippproxy.server.response import Reply

_GET_JOBS_DEFAULT = frozenset({"job-id", "job-uri"})     # RFC 8011 §4.2.6.1
# which-jobs values narrower than completed / not-completed (PWG 5100.7 §6.2.15).
_BY_STATE = {"aborted": JobState.ABORTED, "canceled": JobState.CANCELED,
             "pending": JobState.PENDING, "pending-held": JobState.PENDING_HELD,
             "processing": JobState.PROCESSING,
             "processing-stopped": JobState.PROCESSING_STOPPED}


def private_for(req: OpRequest, job: JobRecord) -> bool:
    """Whether the job's names are withheld from this asker: the queue keeps jobs private
    (the default, as cupsd's ``JobPrivateAccess default`` = @OWNER @SYSTEM) and the asker
    is neither the job's owner nor an admin."""
    q = req.queue or req.ctx.queues.get(job.queue)
    private = q.config.private_jobs if q is not None else True
    return private and job.owner != req.user and not is_admin(req)


def _job_group(job: JobRecord, req: OpRequest, default: frozenset[str] | None = None) -> Group:
    wanted = A.requested_names(req.op("requested-attributes"))
    return Group(Tag.JOB_ATTRIBUTES, tuple(job_attrs.select(
        waiting(req, job), req.origin, wanted, default, private=private_for(req, job))))


def waiting(req: OpRequest, job: JobRecord) -> JobRecord:
    """A pending job of a stopped (paused) queue waits for it: its job-state-reasons
    include 'printer-stopped' (RFC 8011 §5.3.8: the printer is stopped; as CUPS reports
    a job queued on a stopped printer). Held jobs wait for their release, not the queue."""
    if job.state != JobState.PENDING:
        return job
    queue = req.ctx.queues.get(job.queue)
    if queue is None or not queue.paused or "printer-stopped" in job.state_reasons:
        return job
    reasons = tuple(r for r in job.state_reasons if r != "none")
    return replace(job, state_reasons=(*reasons, "printer-stopped"))


async def _transition(req: OpRequest, job: JobRecord, event: JobEvent, **kw: object
                      ) -> JobRecord:
    try:
        new = await req.ctx.store.transition(job.uuid, event, **kw)  # type: ignore[arg-type]
    except InvalidTransition as e:   # the job moved on meanwhile (e.g. it just completed)
        raise IppError(Status.CLIENT_ERROR_NOT_POSSIBLE,
                       f"job {job.job_id} is {JobState(e.state).keyword}") from None
    req.ctx.notifier.job_changed(new.uuid)
    return new


async def cancel_job(req: OpRequest) -> Reply:
    job = await target_job(req)
    release = refusal(req, job)
    if release is not None:   # an approver's "no" (issue 17 §6)
        await refuse_held(req, release, job)
        return Reply()
    check_owner(req, job)
    if not can(job.state, JobEvent.CANCEL):
        raise IppError(Status.CLIENT_ERROR_NOT_POSSIBLE,
                       f"job {job.job_id} is already {JobState(job.state).keyword}")
    reason = "job-canceled-by-user" if job.owner == req.user else "job-canceled-by-operator"
    msg = req.op_value("job-message-to-operator")
    await _transition(req, job, JobEvent.CANCEL, reasons=(reason,),
                      message=f"canceled by {req.user}" if not isinstance(msg, str)
                      else msg[:255])
    return Reply()


def _queue_name(req: OpRequest) -> str | None:
    """The target queue's name; None: every queue (the request was for the root)."""
    return req.queue.name if req.queue is not None else None


def _open_to(req: OpRequest, jobs: list[JobRecord]) -> list[JobRecord]:
    """At the root, the jobs of queues the asker may address: a queue that wants
    credentials (``authentication = "basic"``) shows nobody unproven its jobs there either."""
    auth = req.ctx.authenticator
    if req.queue is not None or req.identity.proven or auth is None:
        return jobs
    return [j for j in jobs if not auth.required(j.queue)]


async def _listed(req: OpRequest, owner: str | None) -> list[JobRecord]:
    """The not-completed jobs ``job-ids`` lists (all of them without it). A listed job that
    is not there, cannot be canceled any more, or (at the root, where job-ids are per
    queue) is on several queues fails the whole request and no job is canceled
    (PWG 5100.11 §4.1.2: client-error-not-possible, those job-ids in the unsupported
    group)."""
    jobs = _open_to(req, await req.ctx.store.list_jobs(_queue_name(req), "not-completed",
                                                        owner=owner))
    ids = req.op("job-ids")
    if ids is None:
        return jobs
    wanted = list(dict.fromkeys(v for v in ids.plain if isinstance(v, int)))
    found: dict[int, list[JobRecord]] = {}
    for job in jobs:
        if job.job_id in wanted:
            found.setdefault(job.job_id, []).append(job)
    bad = [i for i in wanted if len(found.get(i, ())) != 1]
    if bad:
        raise IppError(Status.CLIENT_ERROR_NOT_POSSIBLE,
                       "job-ids lists jobs that cannot be canceled (finished, not there"
                       + (", or on several queues" if req.queue is None else "") + "): "
                       + ", ".join(str(i) for i in bad[:20]),
                       (Attribute.multi("job-ids", Tag.INTEGER, bad),))
    return [found[i][0] for i in wanted]


async def _cancel_all(req: OpRequest, jobs: list[JobRecord], reason: str) -> None:
    for job in jobs:
        if can(job.state, JobEvent.CANCEL):
            try:
                await _transition(req, job, JobEvent.CANCEL, reasons=(reason,),
                                  message=f"canceled by {req.user}")
            except IppError:
                pass   # finished meanwhile


async def cancel_jobs(req: OpRequest) -> Reply:
    """Cancel-Jobs (PWG 5100.11 §4.1): an operator cancels every not-completed job of the
    printer, or the ones ``job-ids`` lists; admins only (the dispatch table)."""
    await _cancel_all(req, await _listed(req, None), "job-canceled-by-operator")
    return Reply()


async def cancel_my_jobs(req: OpRequest) -> Reply:
    """Cancel-My-Jobs (PWG 5100.11 §4.2): the same, limited to the asker's own jobs."""
    await _cancel_all(req, await _listed(req, req.user), "job-canceled-by-user")
    return Reply()


async def cancel_current_job(req: OpRequest) -> Reply:
    """RFC 3998 Cancel-Current-Job (operators): cancel the job the queue is processing; with
    ``job-id``, only if that job is the current one (else client-error-not-possible)."""
    q = queue_of(req)
    current = [j for j in await req.ctx.store.list_jobs(q.name, "not-completed")
               if j.state in (JobState.PROCESSING, JobState.PROCESSING_STOPPED)]
    if not current:
        raise IppError(Status.CLIENT_ERROR_NOT_POSSIBLE, f"{q.name} has no current job")
    wanted = req.op("job-id")
    if wanted is not None:
        if wanted.tag != Tag.INTEGER or not isinstance(wanted.value, int):
            raise IppError(Status.CLIENT_ERROR_BAD_REQUEST, "job-id must be an integer")
        if wanted.value != current[0].job_id:
            raise IppError(Status.CLIENT_ERROR_NOT_POSSIBLE,
                           f"job {wanted.value} is not the current job of {q.name}")
    msg = req.op_value("job-message-to-operator")
    await _transition(req, current[0], JobEvent.CANCEL, reasons=("job-canceled-by-operator",),
                      message=f"canceled by {req.user}" if not isinstance(msg, str)
                      else msg[:255])
    return Reply()


async def get_job_attributes(req: OpRequest) -> Reply:
    job = await target_job(req)
    return Reply(groups=(_job_group(job, req),))


async def get_jobs(req: OpRequest) -> Reply:
    which_attr = req.op("which-jobs")
    which = which_attr.value if which_attr is not None else "not-completed"
    if not isinstance(which, str) or which not in WHICH_JOBS:
        raise IppError(Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED,
                       "which-jobs value is not supported",
                       (which_attr,) if which_attr is not None else ())
    limit = req.op_value("limit")
    first = req.op_value("first-index")
    if (limit is not None and (not isinstance(limit, int) or limit < 1)) or \
            (first is not None and (not isinstance(first, int) or first < 1)):
        raise IppError(Status.CLIENT_ERROR_BAD_REQUEST, "limit and first-index must be >= 1")
    owner = req.user if req.op_value("my-jobs") is True else None
    store_which = which if which in ("completed", "not-completed", "all") else "all"
    jobs = _open_to(req, await req.ctx.store.list_jobs(
        _queue_name(req), store_which, owner=owner))  # type: ignore[arg-type]
    if which in _BY_STATE:
        jobs = [j for j in jobs if j.state == _BY_STATE[which]]
    start = (first - 1) if isinstance(first, int) else 0
    jobs = jobs[start:]
    if isinstance(limit, int):
        jobs = jobs[:limit]
    return Reply(groups=tuple(_job_group(j, req, _GET_JOBS_DEFAULT) for j in jobs))


async def hold_job(req: OpRequest) -> Reply:
    job = await target_job(req)
    check_owner(req, job)
    until = req.op_value("job-hold-until", "indefinite")
    if not isinstance(until, str) or until not in HOLD_UNTIL:
        a = req.op("job-hold-until")
        raise IppError(Status.CLIENT_ERROR_ATTRIBUTES_OR_VALUES_NOT_SUPPORTED,
                       "job-hold-until value is not supported", (a,) if a else ())
    if until == "no-hold":
        if req.ctx.release is not None and req.ctx.release.waits(job):
            await release_held(req, req.ctx.release, job)   # its release's rules apply
        elif job.state == JobState.PENDING_HELD:
            await _release(req, job)
        return Reply()
    await _transition(req, job, JobEvent.HOLD, reasons=("job-hold-until-specified",),
                      hold_until=until)
    return Reply()


async def release_job(req: OpRequest) -> Reply:
    job = await target_job(req)
    if req.ctx.release is not None and req.ctx.release.waits(job):
        await release_held(req, req.ctx.release, job)
        return Reply()
    check_owner(req, job)
    if job.state != JobState.PENDING_HELD:
        raise IppError(Status.CLIENT_ERROR_NOT_POSSIBLE,
                       f"job {job.job_id} is not held")
    await _release(req, job)
    return Reply()


async def _release(req: OpRequest, job: JobRecord) -> None:
    """Release a held job; one held for its payer is first charged (pipeline/payer.py)
    and stays held, answered with the account status, while the payer cannot pay. One of
    a "popup" queue that waits for its user to prove who printed it is released by that
    proof only (pipeline/identity.py): nobody, not even an admin, makes a claim pay."""
    if IDENTITY_NEEDED in job.state_reasons:
        raise IppError(Status.CLIENT_ERROR_NOT_AUTHORIZED,
                       f"job {job.job_id} waits for its user to confirm who printed it "
                       "(ippproxy-client)")
    _not_findme(req, job)
    hold = await req.ctx.intake.pay_held(job)
    if hold is not None:
        await _transition(req, job, JobEvent.HOLD, reasons=(hold.reason,),
                          message=hold.message[:255], hold_until="indefinite")
        raise IppError(RELEASE_STATUS[hold.reason], f"job {job.job_id} stays held: "
                       f"{hold.message}"[:255])
    if req.ctx.release is not None and req.ctx.release.mode(job) != "none":
        # Paid now; on a hold/release queue it goes on waiting for its release (issue 17).
        await _transition(req, job, JobEvent.HOLD, reasons=(RELEASE_HELD,),
                          message="paid; held until released at the printer",
                          hold_until="indefinite")
        return
    reasons = ("job-incoming",) if not job.closed else None
    await _transition(req, job, JobEvent.RELEASE, hold_until=None, reasons=reasons)


def _not_findme(req: OpRequest, job: JobRecord) -> None:
    """A job of a Find-Me queue is released at a printer of its group, which is where it
    is converted and priced (services/findme.py): a plain Release-Job names no printer, so
    it is not possible (RFC 8011 §4.3.6) and the job stays held (issue 17 point 7)."""
    queue = req.ctx.queues.get(job.queue)
    if queue is not None and queue.config.findme_printers:
        raise IppError(Status.CLIENT_ERROR_NOT_POSSIBLE,
                       f"job {job.job_id} is a Find-Me job: release it at a printer of "
                       f"{', '.join(queue.config.findme_printers)} (the user web app or "
                       "the printer's release station)"[:255])


async def restart_job(req: OpRequest) -> Reply:
    job = await target_job(req)
    check_owner(req, job)
    # RFC 8011 §4.3.7: only retained jobs can be restarted; we do not retain printed jobs.
    raise IppError(Status.CLIENT_ERROR_NOT_POSSIBLE,
                   f"job {job.job_id} is {JobState(job.state).keyword} and is not retained")


async def purge_jobs(req: OpRequest) -> Reply:
    for job in await req.ctx.store.list_jobs(_queue_name(req), "not-completed"):
        try:
            await _transition(req, job, JobEvent.CANCEL, reasons=("job-canceled-by-operator",),
                              message=f"purged by {req.user}")
        except IppError:
            pass
    return Reply()


async def set_job_attributes(req: OpRequest) -> Reply:
    job = await target_job(req)
    check_owner(req, job)
    group = req.msg.group(Tag.JOB_ATTRIBUTES)
    if group is None or not group.attributes:
        raise IppError(Status.CLIENT_ERROR_BAD_REQUEST, "no job attributes to set")
    # job-settable-attributes-supported is "none" (RFC 3380 §4.2).
    echo = tuple(Attribute.single(a.name, Tag.NOT_SETTABLE, None) for a in group.attributes)
    raise IppError(Status.CLIENT_ERROR_ATTRIBUTES_NOT_SETTABLE,
                   "no job attribute is settable", echo)


OPERATIONS: dict[int, OpSpec] = {
    Operation.CANCEL_JOB: OpSpec("Cancel-Job", cancel_job, target="job"),
    Operation.CANCEL_JOBS: OpSpec("Cancel-Jobs", cancel_jobs, admin=True, every_queue=True),
    Operation.CANCEL_MY_JOBS: OpSpec("Cancel-My-Jobs", cancel_my_jobs, every_queue=True),
    Operation.CANCEL_CURRENT_JOB: OpSpec("Cancel-Current-Job", cancel_current_job, admin=True),
    Operation.GET_JOB_ATTRIBUTES: OpSpec("Get-Job-Attributes", get_job_attributes,
                                         target="job"),
    Operation.GET_JOBS: OpSpec("Get-Jobs", get_jobs, every_queue=True),
    Operation.HOLD_JOB: OpSpec("Hold-Job", hold_job, target="job"),
    Operation.RELEASE_JOB: OpSpec("Release-Job", release_job, target="job"),
    Operation.RESTART_JOB: OpSpec("Restart-Job", restart_job, target="job"),
    Operation.PURGE_JOBS: OpSpec("Purge-Jobs", purge_jobs, admin=True, every_queue=True),
    Operation.SET_JOB_ATTRIBUTES: OpSpec("Set-Job-Attributes", set_job_attributes,
                                         target="job"),
}

__all__ = ["OPERATIONS", "is_admin"]
