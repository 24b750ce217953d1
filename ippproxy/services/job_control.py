"""Cancel and release a job from the admin pages (RFC 8011 §4.3.3 Cancel-Job, §4.3.6
Release-Job, as an operator).

The smallest interface the job pages need until the jobs service (``services/jobs.py``)
lands: the same transitions the IPP operations make, through the job store's state table,
and the same notification afterwards (``notify``: the forwarder stops a job it is
sending, the settler refunds a canceled job's charge).
"""

from __future__ import annotations

from collections.abc import Callable

from ippproxy.jobs.records import JobRecord
from ippproxy.jobs.state import InvalidTransition, JobEvent, JobState, can
from ippproxy.jobs.store import JobStore
from ippproxy.services.actor import Access, Actor, Section
from ippproxy.services.errors import Conflict, Forbidden, NotFound


class JobControl:
    def __init__(self, store: JobStore, notify: Callable[[str], None]) -> None:
        self.store = store
        self.notify = notify

    async def _job(self, actor: Actor, uuid: str) -> JobRecord:
        if not actor.may(Section.PRINTERS, Access.WRITE):
            raise Forbidden("changing jobs needs write access to printers")
        job = await self.store.get_by_uuid(uuid) if len(uuid) <= 36 else None
        if job is None:
            raise NotFound("job", uuid)
        return job

    async def cancel(self, actor: Actor, uuid: str) -> JobRecord:
        job = await self._job(actor, uuid)
        if not can(job.state, JobEvent.CANCEL):
            raise Conflict(f"job {job.job_id} is already {JobState(job.state).keyword}")
        return await self._change(job, JobEvent.CANCEL, reasons=("job-canceled-by-operator",),
                                  message=f"canceled by {actor.name}")

    async def release(self, actor: Actor, uuid: str) -> JobRecord:
        job = await self._job(actor, uuid)
        if job.state != JobState.PENDING_HELD:
            raise Conflict(f"job {job.job_id} is not held")
        return await self._change(job, JobEvent.RELEASE, hold_until=None,
                                  reasons=None if job.closed else ("job-incoming",))

    async def _change(self, job: JobRecord, event: JobEvent, *,
                      reasons: tuple[str, ...] | None, message: str | None = None,
                      hold_until: str | None = None) -> JobRecord:
        try:
            if event == JobEvent.RELEASE:
                new = await self.store.transition(job.uuid, event, reasons=reasons,
                                                  hold_until=hold_until)
            else:
                new = await self.store.transition(job.uuid, event, reasons=reasons,
                                                  message=message)
        except InvalidTransition as e:      # it moved on meanwhile (e.g. it just printed)
            raise Conflict(f"job {job.job_id} is {JobState(e.state).keyword}") from None
        self.notify(new.uuid)
        return new
