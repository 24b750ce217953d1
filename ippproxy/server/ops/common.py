"""Helpers shared by the operation families: the target job, ownership, printer attributes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ippproxy.ipp import Attribute, Status
from ippproxy.jobs.records import JobRecord
from ippproxy.jobs.state import JobState
from ippproxy.server import printer_attrs
from ippproxy.server.context import OpRequest, QueueRuntime
from ippproxy.server.errors import IppError


def queue_of(req: OpRequest) -> QueueRuntime:
    if req.queue is None:  # the dispatcher guarantees a queue for printer/job operations
        raise IppError(Status.CLIENT_ERROR_BAD_REQUEST, "missing printer-uri")
    return req.queue


async def queue_status(req: OpRequest, queue: QueueRuntime) -> printer_attrs.QueueStatus:
    store = req.ctx.store
    queued = await store.count_jobs(queue.name, "not-completed")
    first = await store.list_jobs(queue.name, "not-completed", limit=1) if queued else []
    processing = bool(first) and first[0].state in (JobState.PROCESSING,
                                                    JobState.PROCESSING_STOPPED)
    return printer_attrs.QueueStatus(queued=queued, processing=processing)


async def destination(req: OpRequest, queue: QueueRuntime) -> tuple[Attribute, ...] | None:
    return await req.ctx.capabilities.printer_attributes(queue.config)


async def printer_attributes(req: OpRequest, queue: QueueRuntime | None = None
                             ) -> list[Attribute]:
    """All printer attributes of ``queue`` (default: the request's target queue); job
    submission uses the cached :func:`capabilities` instead."""
    from ippproxy.server.dispatch import supported_operations

    q = queue or queue_of(req)
    dest = await destination(req, q)
    status = await queue_status(req, q)
    return printer_attrs.build(req.ctx, q, req.authority, dest, status, supported_operations())


@dataclass(frozen=True)
class Capabilities:
    """What job submission checks a request against: the queue's printer attributes as
    ``build()`` makes them, indexed by name, for one reading of the destination."""

    source: tuple[tuple[Attribute, ...] | None, object]   # (destination attributes, config)
    by_name: Mapping[str, Attribute]

    @property
    def formats(self) -> list[object]:
        a = self.by_name.get("document-format-supported")
        return list(a.plain) if a is not None else []


async def capabilities(req: OpRequest, queue: QueueRuntime | None = None) -> Capabilities:
    """The queue's capabilities for Print-Job, Create-Job and Send-Document: rebuilt only
    when the destination's cached attributes (or the queue's config) change, so that the
    hot path does not assemble the whole printer attribute set per job."""
    q = queue or queue_of(req)
    dest = await destination(req, q)
    cached = req.ctx.capability_cache.get(q.name)
    if (isinstance(cached, Capabilities) and cached.source[0] is dest
            and cached.source[1] is q.config):
        return cached
    from ippproxy.server.dispatch import supported_operations  # (dispatch imports us)

    attrs = printer_attrs.build(req.ctx, q, req.authority, dest, printer_attrs.QueueStatus(),
                                supported_operations())
    caps = Capabilities((dest, q.config), {a.name: a for a in attrs})
    req.ctx.capability_cache[q.name] = caps
    return caps


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
    return req.user in req.ctx.config.server.admins


def check_owner(req: OpRequest, job: JobRecord) -> None:
    """RFC 8011 §4.3.3: only the job's owner or an operator may change it."""
    if job.owner != req.user and not is_admin(req):
        raise IppError(Status.CLIENT_ERROR_NOT_AUTHORIZED,
                       f"job {job.job_id} belongs to another user")
