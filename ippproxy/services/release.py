"""Releasing held jobs (issue 17 §6): release one job or all of a user's jobs on a printer,
release a PIN job by its PIN, cancel (its reservation refunded), refuse (approval queues),
and expire jobs nobody released. No HTTP: IPP Release-Job (server/ops/jobs.py), the REST
API (``/api/v1/me/jobs/{uuid}/release``, web/me_release_api.py) and the release station
(web/station/) call it.

Theory of operation. The rules (who may release, which printer states stop a release) are
``release_rules`` (pure). A release reads the job, checks the asker's right, then asks the
destination's state (the forwarder's capabilities cache, ``StatusSource``): a printer that
reports media-empty, media-jam, door-open or cannot be reached refuses the release
(``Conflict`` naming the reason) and the job stays held. Then the job goes ``pending`` in
one store transition (a job changed meanwhile is ``Conflict``), the forwarder, the
settlement and the owner's clients are told (``notifier``: the owner's live events carry the
new state and message, services/usernotices.py), and the audit log records who released it.
A cancel or an approver's refusal is a ``CANCEL`` transition: the settlement refunds the
reservation, a ledger row with its reason (pipeline/settle.py). Another user's job is
``Forbidden`` when the asker could see it is there (IPP knows the job-id), ``NotFound``
over the user's REST routes, which list only their own jobs.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from ippproxy.accounting.identity import canonical_name
from ippproxy.config import Config, QueueConfig
from ippproxy.jobs.records import JobNotFound, JobRecord
from ippproxy.jobs.search import JobQuery
from ippproxy.jobs.state import InvalidTransition, JobEvent, JobState
from ippproxy.jobs.store import JobStore
from ippproxy.pipeline.payer import PayerHold
from ippproxy.pipeline.release import PIN_HELD
from ippproxy.services import release_rules as rules
from ippproxy.services.actor import Access, Actor, Section
from ippproxy.services.auditsink import AuditSink, entry
from ippproxy.services.errors import Conflict, Forbidden, NotFound
from ippproxy.services.job_pin import pin_matches
from ippproxy.services.printer_watch import StatusSource, state_reasons

BATCH = 500
# (user, queue's approvers) -> whether the user approves there (groups, role): blocking.
ApproverCheck = Callable[[str, tuple[str, ...]], bool]


class JobNotifier(Protocol):
    def job_changed(self, uuid: str) -> None: ...


def _owner(job: JobRecord) -> str:
    try:
        return canonical_name(job.owner)
    except ValueError:
        return job.owner


@dataclass(frozen=True)
class Outcome:
    """Release-all: the jobs released, and the ones refused with why."""

    released: tuple[JobRecord, ...]
    refused: tuple[tuple[JobRecord, str], ...]


class Release:
    def __init__(self, store: JobStore, notifier: JobNotifier, audit: AuditSink,
                 config: Callable[[], Config], source: StatusSource,
                 pay: Callable[[JobRecord], Awaitable[PayerHold | None]] | None = None,
                 approver: ApproverCheck | None = None) -> None:
        self.store, self.notifier, self.audit = store, notifier, audit
        self.config, self.source, self.pay, self.approver = config, source, pay, approver

    # -- reading ----------------------------------------------------------------------------
    def _queue(self, name: str) -> QueueConfig:
        return self.config().queue(name) or QueueConfig(name=name)

    def mode(self, job: JobRecord) -> rules.Mode:
        return rules.mode_of(self._queue(job.queue).release)

    def waits(self, job: JobRecord) -> bool:
        return rules.waits_for_release(job, self.mode(job))

    async def _asker(self, actor: Actor, job: JobRecord) -> rules.Asker:
        admin = actor.may(Section.PRINTERS, Access.WRITE)
        approvers = self._queue(job.queue).approvers
        approver = False
        if self.mode(job) == rules.Mode.APPROVAL and not admin:
            approver = (rules.is_approver(actor.name, (), approvers, False)
                        if self.approver is None
                        else await asyncio.to_thread(self.approver, actor.name, approvers))
        return rules.Asker(actor.name, admin, approver)

    async def job(self, uuid: str) -> JobRecord:
        job = None
        if 0 < len(uuid) <= 64 and uuid.isprintable():
            job = await self.store.get_by_uuid(uuid)
        if job is None:
            raise NotFound("job", uuid)
        return job

    async def held(self, actor: Actor, printer: str | None = None) -> list[JobRecord]:
        """The actor's own jobs waiting for release (on ``printer`` only, if given)."""
        found, _ = await self.store.search_jobs(JobQuery(
            owner=actor.name, queue=printer, states=(JobState.PENDING_HELD,),
            sort="created_at", descending=False, limit=BATCH))
        return [j for j in found if _owner(j) == actor.name and self.waits(j)]

    async def awaiting(self, actor: Actor) -> list[JobRecord]:
        """Jobs held on the approval queues where the actor approves (an admin: all)."""
        admin = actor.may(Section.PRINTERS, Access.WRITE)
        out: list[JobRecord] = []
        for q in self.config().queues:
            if rules.mode_of(q.release) != rules.Mode.APPROVAL:
                continue
            if not admin and not (rules.is_approver(actor.name, (), q.approvers, False)
                                  if self.approver is None else await asyncio.to_thread(
                                      self.approver, actor.name, q.approvers)):
                continue
            found, _ = await self.store.search_jobs(JobQuery(
                queue=q.name, states=(JobState.PENDING_HELD,), sort="created_at",
                descending=False, limit=BATCH))
            out.extend(j for j in found if self.waits(j) and _owner(j) != actor.name)
        return out

    async def printer_problem(self, queue: str) -> str | None:
        """Why the queue's printer cannot print now (None: it can)."""
        attrs = await self.source.printer_attributes(self._queue(queue))
        return rules.cannot_print(None if attrs is None else state_reasons(attrs))

    # -- changing -----------------------------------------------------------------------------
    async def release(self, actor: Actor, uuid: str, *, pin: str | None = None) -> JobRecord:
        """Release one job held for release; ``pin``: the job PIN (a PIN job's holder)."""
        job = await self.job(uuid)
        if not self.waits(job):
            raise Conflict(f"job {job.job_id} is {job.state.keyword} and waits for no release")
        asker = await self._asker(actor, job)
        pin_ok = False
        if rules.pin_job(job) and not asker.admin:
            if pin is None:
                raise Forbidden(f"job {job.job_id} is released by its PIN (job-password)")
            pin_ok = await asyncio.to_thread(pin_matches, job, pin)
            if not pin_ok:
                raise Forbidden(f"wrong PIN for job {job.job_id}")
        why = rules.refusal(asker, _owner(job), self.mode(job), pin_given=pin_ok)
        if why is not None:
            raise Forbidden(f"job {job.job_id}: {why}")
        return await self._release(actor, job, "job.release")

    async def _release(self, actor: Actor, job: JobRecord, action: str) -> JobRecord:
        problem = await self.printer_problem(job.queue)
        if problem is not None:
            raise Conflict(f"{job.queue} cannot print now ({problem}): job {job.job_id} "
                           "stays held")
        hold = None if self.pay is None else await self.pay(job)
        if hold is not None:
            raise Conflict(f"job {job.job_id} stays held: {hold.message}")
        try:
            new = await self.store.transition(
                job.uuid, JobEvent.RELEASE, hold_until=None,
                reasons=None if job.closed else ("job-incoming",))
        except (InvalidTransition, JobNotFound):
            raise Conflict(f"job {job.job_id} changed meanwhile") from None
        await self._done(actor, job, new, action)
        return new

    async def release_all(self, actor: Actor, printer: str) -> Outcome:
        """Every job of the actor's held for release on ``printer`` (PIN jobs need their
        PIN: they are left alone)."""
        released: list[JobRecord] = []
        refused: list[tuple[JobRecord, str]] = []
        for job in await self.held(actor, printer):
            if rules.pin_job(job):
                continue
            try:
                released.append(await self.release(actor, job.uuid))
            except (Conflict, Forbidden) as e:
                refused.append((job, e.detail))
        return Outcome(tuple(released), tuple(refused))

    async def release_pin(self, actor: Actor, printer: str, pin: str) -> JobRecord:
        """The PIN job on ``printer`` that this PIN opens (the station's PIN login)."""
        found, _ = await self.store.search_jobs(JobQuery(
            queue=printer, states=(JobState.PENDING_HELD,), sort="created_at",
            descending=False, limit=BATCH))
        for job in found:
            if rules.pin_job(job) and PIN_HELD in job.state_reasons and \
                    await asyncio.to_thread(pin_matches, job, pin):
                return await self._release(actor, job, "job.release-pin")
        raise Forbidden("no job on this printer has that PIN")

    async def cancel(self, actor: Actor, uuid: str) -> JobRecord:
        """Cancel a held job (refunded); an approver's cancel is a refusal."""
        job = await self.job(uuid)
        if job.state != JobState.PENDING_HELD:
            raise Conflict(f"job {job.job_id} is {job.state.keyword}, not held")
        asker = await self._asker(actor, job)
        if not rules.may_cancel(asker, _owner(job), self.mode(job)):
            raise Forbidden(f"job {job.job_id}: only its owner may cancel it")
        refused = asker.name != _owner(job) and self.mode(job) == rules.Mode.APPROVAL
        message = (f"refused by {actor.name}" if refused else f"canceled by {actor.name}")
        try:
            new = await self.store.transition(
                job.uuid, JobEvent.CANCEL, message=message[:255],
                reasons=("job-canceled-by-user",) if asker.name == _owner(job)
                else ("job-canceled-by-operator",))
        except (InvalidTransition, JobNotFound):
            raise Conflict(f"job {job.job_id} changed meanwhile") from None
        await self._done(actor, job, new, "job.refuse" if refused else "job.cancel")
        return new

    async def expire(self, now: dt.datetime | None = None) -> list[JobRecord]:
        """Cancel the jobs held for release longer than ``accounting.release_expiry``
        (their reservations refunded by the settlement); the housekeeping pass calls it."""
        seconds = self.config().accounting.release_expiry
        cutoff = (now or self.store.clock()) - dt.timedelta(seconds=seconds)
        found, _ = await self.store.search_jobs(JobQuery(
            states=(JobState.PENDING_HELD,), until=cutoff, sort="created_at",
            descending=False, limit=BATCH))
        hours = round(seconds / 3600, 2)
        expired = []
        for job in (j for j in found if self.waits(j)):
            try:
                new = await self.store.transition(
                    job.uuid, JobEvent.CANCEL, reasons=tuple(job.state_reasons),
                    message=f"not released within {hours:g} hour(s): deleted, its "
                            "reservation refunded")
            except (InvalidTransition, JobNotFound):
                continue        # released or canceled meanwhile
            await self._done(Actor.system("release-expiry"), job, new, "job.expire")
            expired.append(new)
        return expired

    async def _done(self, actor: Actor, before: JobRecord, after: JobRecord,
                    action: str) -> None:
        self.notifier.job_changed(after.uuid)
        await asyncio.to_thread(self.audit.record, entry(
            actor, action, f"job:{after.uuid}",
            {"state": before.state.keyword, "reasons": list(before.state_reasons)},
            {"state": after.state.keyword, "printer": after.queue, "owner": after.owner}))
