"""The admin's operations on jobs: list (every state, filtered, sorted, paged), get one,
cancel, hold, release, move to another queue. They go through ``JobStore`` (the jobs package keeps its tables) and
tell the forwarder and the settlement of each change, as the IPP operations do
(``server/ops/jobs.py``): a job cancelled here before printing is refunded the same way.

Jobs are in the ``printers`` section: reading needs read access, a change write access.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import Protocol

from ippproxy.accounting import CreditRefused
from ippproxy.accounting.identity import canonical_name
from ippproxy.jobs.moving import JobNotMovable, can_move
from ippproxy.jobs.records import JobNotFound, JobRecord
from ippproxy.jobs.search import SORTS, JobQuery
from ippproxy.jobs.state import InvalidTransition, JobEvent, JobState, can
from ippproxy.jobs.store import JobStore
from ippproxy.pipeline.identity import IDENTITY_NEEDED
from ippproxy.pipeline.payer import PayerHold
from ippproxy.pipeline.requote import Quote, Requoter
from ippproxy.services.actor import Access, Actor, Section
from ippproxy.services.auditsink import AuditSink, entry
from ippproxy.services.errors import Conflict, Forbidden, Invalid, NotFound
from ippproxy.services.release import Release

MAX_LIMIT = 500
STATE_NAMES = {s.keyword: s for s in JobState}
SORT_KEYS = tuple(sorted(SORTS))


class JobNotifier(Protocol):
    def job_changed(self, uuid: str) -> None: ...


@dataclass(frozen=True)
class JobFilter:
    user: str | None = None
    printer: str | None = None
    states: tuple[str, ...] = ()  # job-state keywords (RFC 8011 §5.3.7)
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    sort: str = "created_at"
    descending: bool = True
    offset: int = 0
    limit: int = 50


def _require(actor: Actor, access: Access) -> None:
    if not actor.may(Section.PRINTERS, access):
        raise Forbidden(f"{access.name.lower()} access to printers and jobs is needed")


def _aware(t: dt.datetime | None, field: str) -> dt.datetime | None:
    if t is not None and t.tzinfo is None:
        raise Invalid(field, "a time needs its UTC offset (RFC 3339)")
    return t


def query_of(f: JobFilter) -> JobQuery:
    if not 1 <= f.limit <= MAX_LIMIT:
        raise Invalid("limit", f"between 1 and {MAX_LIMIT}")
    if f.offset < 0:
        raise Invalid("offset", "zero or more")
    if f.sort not in SORTS:
        raise Invalid("sort", f"one of {', '.join(SORT_KEYS)}")
    states = []
    for i, name in enumerate(f.states):
        if name not in STATE_NAMES:
            raise Invalid(f"state[{i}]", f"one of {', '.join(STATE_NAMES)}")
        states.append(int(STATE_NAMES[name]))
    owner = None
    if f.user is not None:
        try:
            owner = canonical_name(f.user)
        except ValueError as e:
            raise Invalid("user", str(e)) from None
    return JobQuery(owner=owner, queue=f.printer, states=tuple(states),
                    since=_aware(f.since, "since"), until=_aware(f.until, "until"),
                    sort=f.sort, descending=f.descending, offset=f.offset, limit=f.limit)


class Jobs:
    def __init__(self, store: JobStore, notifier: JobNotifier, audit: AuditSink,
                 queues: Callable[[], Collection[str]],
                 requoter: Requoter | None = None,
                 pay: Callable[[JobRecord], Awaitable[PayerHold | None]] | None = None
                 ) -> None:
        self.store = store
        self.notifier = notifier
        self.audit = audit
        self.queues = queues  # the names of the queues a job may be moved to
        self.requoter = requoter  # prices a moved job on its new queue (accounting on)
        # Charges a job held for its payer before it is released (Intake.pay_held).
        self.pay = pay
        # Jobs held for release go through it (printer state checked, issue 17 §6).
        self.held: Release | None = None

    async def list(self, actor: Actor, f: JobFilter) -> tuple[list[JobRecord], int]:
        _require(actor, Access.READ)
        return await self.store.search_jobs(query_of(f))

    async def get(self, actor: Actor, uuid: str) -> JobRecord:
        _require(actor, Access.READ)
        plausible = len(uuid) <= 64 and uuid.isprintable()
        job = await self.store.get_by_uuid(uuid) if plausible else None
        if job is None:
            raise NotFound("job", uuid)
        return job

    async def _change(self, actor: Actor, uuid: str, event: JobEvent, action: str,
                      **kw: object) -> JobRecord:
        _require(actor, Access.WRITE)
        job = await self.get(actor, uuid)
        if not can(job.state, event):
            raise Conflict(f"job {job.uuid} is {job.state.keyword}: cannot {event.value} it")
        try:
            new = await self.store.transition(job.uuid, event, **kw)  # type: ignore[arg-type]
        except InvalidTransition as e:  # it moved on meanwhile
            raise Conflict(str(e)) from None
        except JobNotFound:
            raise NotFound("job", uuid) from None
        self.notifier.job_changed(new.uuid)
        await asyncio.to_thread(self.audit.record, entry(
            actor, action, f"job:{new.uuid}", {"state": job.state.keyword},
            {"state": new.state.keyword}))
        return new

    async def cancel(self, actor: Actor, uuid: str) -> JobRecord:
        return await self._change(actor, uuid, JobEvent.CANCEL, "job.cancel",
                                  reasons=("job-canceled-by-operator",),
                                  message=f"canceled by {actor.name}"[:255])

    async def hold(self, actor: Actor, uuid: str) -> JobRecord:
        return await self._change(actor, uuid, JobEvent.HOLD, "job.hold",
                                  reasons=("job-hold-until-specified",),
                                  hold_until="indefinite")

    async def release(self, actor: Actor, uuid: str) -> JobRecord:
        job = await self.get(actor, uuid)
        if self.held is not None and self.held.waits(job):
            _require(actor, Access.WRITE)
            return await self.held.release(actor, uuid)
        if job.state != JobState.PENDING_HELD:
            _require(actor, Access.WRITE)
            raise Conflict(f"job {job.uuid} is {job.state.keyword}, not held")
        _require(actor, Access.WRITE)
        if IDENTITY_NEEDED in job.state_reasons:   # released by its user's proof only
            raise Conflict(f"job {job.uuid} waits for its user to confirm who printed it")
        hold = None if self.pay is None else await self.pay(job)
        if hold is not None:   # the payer still cannot pay: it stays held, saying why
            await self._change(actor, uuid, JobEvent.HOLD, "job.hold", reasons=(hold.reason,),
                               message=hold.message[:255], hold_until="indefinite")
            raise Conflict(f"job {job.uuid} stays held: {hold.message}")
        reasons = ("job-incoming",) if not job.closed else None
        return await self._change(actor, uuid, JobEvent.RELEASE, "job.release",
                                  hold_until=None, reasons=reasons)

    async def move(self, actor: Actor, uuid: str, printer: str) -> JobRecord:
        """To another queue, if nobody is working on the job yet (``jobs.moving``), priced
        there (``pipeline.requote``: the reservation adjusted by a ledger row with its
        reason; 409 when the account cannot pay the new price). Should the move itself
        fail, the job is priced back on its queue."""
        _require(actor, Access.WRITE)
        if printer not in self.queues():
            raise Invalid("printer", f"no queue named {printer!r}")
        job = await self.get(actor, uuid)
        if not can_move(job):
            raise Conflict(f"job {job.uuid} is {job.state.keyword}: only pending or held "
                           "jobs that are not being sent move")
        quote = await self._requote(job, printer, actor)
        try:
            new = await self.store.move_job(job.uuid, printer,
                                            quote.analysis if quote is not None else None)
        except (JobNotMovable, JobNotFound) as e:
            if quote is not None and job.queue != printer:
                await self._requote(job, job.queue, actor)
            if isinstance(e, JobNotFound):
                raise NotFound("job", uuid) from None
            raise Conflict(str(e)) from None
        self.notifier.job_changed(new.uuid)
        before: dict[str, object] = {"printer": job.queue, "job_id": job.job_id}
        after: dict[str, object] = {"printer": new.queue, "job_id": new.job_id}
        if quote is not None:
            before["price"], after["price"] = quote.before, quote.after
        await asyncio.to_thread(self.audit.record, entry(
            actor, "job.move", f"job:{new.uuid}", before, after))
        return new

    async def _requote(self, job: JobRecord, printer: str, actor: Actor) -> Quote | None:
        if self.requoter is None or job.queue == printer:
            return None
        try:
            return await self.requoter.requote(job, printer, actor.name)
        except CreditRefused as e:
            raise Conflict(f"job {job.uuid} cannot move to {printer}: {e}") from None
