"""Helpers shared by the operation families: the target job, ownership, printer attributes."""

from __future__ import annotations

from ippproxy.ipp import Attribute, Status
from ippproxy.jobs.records import JobRecord
from ippproxy.jobs.state import JobState
from ippproxy.jobs.store import JobStore
from ippproxy.pipeline import SubmissionChecks
from ippproxy.server import printer_attrs
from ippproxy.server.context import CachedChecks, OpRequest, QueueRuntime
from ippproxy.server.errors import IppError


def queue_of(req: OpRequest) -> QueueRuntime:
    if req.queue is None:  # the dispatcher guarantees a queue for printer/job operations
        raise IppError(Status.CLIENT_ERROR_BAD_REQUEST, "missing printer-uri")
    return req.queue


async def queue_status(req: OpRequest, queue: QueueRuntime) -> printer_attrs.QueueStatus:
    return await stored_status(req.ctx.store, queue.name)


async def stored_status(store: JobStore, queue: str) -> printer_attrs.QueueStatus:
    """The queue's jobs as the state attributes need them (also for /metrics)."""
    queued = await store.count_jobs(queue, "not-completed")
    first = await store.list_jobs(queue, "not-completed", limit=1) if queued else []
    processing = bool(first) and first[0].state in (JobState.PROCESSING,
                                                    JobState.PROCESSING_STOPPED)
    return printer_attrs.QueueStatus(queued=queued, processing=processing)


async def destination(req: OpRequest, queue: QueueRuntime) -> tuple[Attribute, ...] | None:
    return await req.ctx.capabilities.printer_attributes(queue.config)


async def printer_attributes(req: OpRequest, queue: QueueRuntime | None = None
                             ) -> list[Attribute]:
    """All printer attributes of ``queue`` (default: the request's target queue); job
    submission uses the cached :func:`submission_checks` instead."""
    q = queue or queue_of(req)
    dest = await destination(req, q)
    status = await queue_status(req, q)
    return printer_attrs.build(req.ctx, q, req.origin, dest, status, list(req.operations))


async def submission_checks(req: OpRequest, queue: QueueRuntime | None = None
                            ) -> SubmissionChecks:
    """What Print-Job, Create-Job and Send-Document check against: the queue's printer
    attributes as ``build()`` makes them, rebuilt only when the destination's cached
    attributes (or the queue's config) change, so that the hot path does not assemble the
    whole printer attribute set per job."""
    q = queue or queue_of(req)
    dest = await destination(req, q)
    cached = req.ctx.checks_cache.get(q.name)
    if cached is not None and cached.destination is dest and cached.config is q.config:
        return cached.checks
    attrs = printer_attrs.build(req.ctx, q, req.origin, dest, printer_attrs.QueueStatus(),
                                list(req.operations))
    checks = SubmissionChecks({a.name: a for a in attrs})
    req.ctx.checks_cache[q.name] = CachedChecks(dest, q.config, checks)
    return checks


async def target_job(req: OpRequest) -> JobRecord:
    q = queue_of(req)
    if req.job_id is None:
        raise IppError(Status.CLIENT_ERROR_BAD_REQUEST, "missing job-id")
    job = await req.ctx.store.get(q.name, req.job_id)
    if job is None:
        raise IppError(Status.CLIENT_ERROR_NOT_FOUND,
                       f"job {req.job_id} does not exist on {q.name}")
    return job


def is_admin(req: OpRequest) -> bool:
    """A proven admin (authn.py); a claimed requesting-user-name never is one."""
    return req.identity.admin


def check_owner(req: OpRequest, job: JobRecord) -> None:
    """RFC 8011 §4.3.3: only the job's owner or an operator may change it. Nobody proven
    is asked to authenticate (HTTP 401, as cupsd answers), so an admin's client can."""
    if job.owner != req.user and not is_admin(req):
        if not req.identity.proven:
            raise IppError(Status.CLIENT_ERROR_NOT_AUTHENTICATED,
                           f"job {job.job_id} belongs to another user: authenticate")
        raise IppError(Status.CLIENT_ERROR_NOT_AUTHORIZED,
                       f"job {job.job_id} belongs to another user")
