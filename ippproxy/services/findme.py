"""Find-Me releases (issue 17 point 7), no HTTP: a held job of a Find-Me queue released at
one printer of its group by its owner (the user web app, the release station) or by an
admin with write access to printers and jobs.

``release_to`` checks, in this order: the job exists and the actor may release it (another
user's job is ``NotFound``: nobody learns of it), it waits on a Find-Me queue
(``Conflict`` otherwise: released already, canceled, or an ordinary queue), the printer is
one of the queue's group (``Invalid`` naming the printers; the job stays held). The job is
then converted and priced at that printer (``pipeline.findme_release``); a printer that
does not answer, or an account that cannot pay the difference, is ``Conflict`` and the job
stays held. A job held because its account could not pay the reservation
(``account-limit-reached``) may be released at a printer it can pay (it is charged there
afresh); one that waits for its account to be chosen (``account-info-needed``) is
``Conflict``. Releases of one job are taken one at a time on this node; across nodes the
job's row lock and state decide (one wins, the other is ``Conflict``), and the price is
re-quoted under the charge row's lock, so a repeated release charges nothing more.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from ippproxy.accounting import CreditRefused
from ippproxy.config import Config
from ippproxy.jobs.moving import JobNotMovable
from ippproxy.jobs.records import JobNotFound, JobRecord
from ippproxy.jobs.state import JobState
from ippproxy.jobs.store import JobStore
from ippproxy.pipeline.findme import findme_queue
from ippproxy.pipeline.findme_release import CannotRelease, FindMeRelease, Released
from ippproxy.pipeline.payer import PayerReason
from ippproxy.services.actor import Access, Actor, Section
from ippproxy.services.auditsink import AuditSink, entry
from ippproxy.services.errors import Conflict, Forbidden, Invalid, NotFound
from ippproxy.services.jobs import JobNotifier
from ippproxy.services.userside import owns


class FindMe:
    def __init__(self, store: JobStore, release: FindMeRelease, config: Callable[[], Config],
                 notifier: JobNotifier, audit: AuditSink) -> None:
        self.store = store
        self.releaser = release
        self.config = config      # the effective configuration (the catalog's queues)
        self.notifier = notifier
        self.audit = audit
        self._releasing: dict[str, asyncio.Lock] = {}

    def group(self, queue: str) -> tuple[str, ...]:
        """The printers of Find-Me queue ``queue`` (none: an ordinary queue)."""
        fm = findme_queue(self.config(), queue)
        return () if fm is None else tuple(fm.findme_printers)

    def printers(self, job: JobRecord) -> tuple[str, ...]:
        """The printers ``job`` may be released at (none: not a Find-Me job)."""
        fm = findme_queue(self.config(), job.queue)
        return () if fm is None or job.state != JobState.PENDING_HELD else fm.findme_printers

    async def release_to(self, actor: Actor, uuid: str, printer: str, *,
                         as_admin: bool = False) -> Released:
        """Release the actor's own job (``as_admin``: anyone's, with write access to
        printers and jobs) at ``printer``."""
        if as_admin and not actor.may(Section.PRINTERS, Access.WRITE):
            raise Forbidden("write access to printers and jobs is needed")
        lock = self._releasing.setdefault(uuid, asyncio.Lock())
        try:
            async with lock:
                return await self._release(actor, uuid, printer, as_admin)
        finally:
            if not lock.locked():
                self._releasing.pop(uuid, None)

    async def _release(self, actor: Actor, uuid: str, printer: str,
                       as_admin: bool) -> Released:
        job = None
        if 0 < len(uuid) <= 64 and uuid.isprintable():
            job = await self.store.get_by_uuid(uuid)
        if job is None or not (as_admin or owns(actor, job)):
            raise NotFound("job", uuid)
        config = self.config()
        fm = findme_queue(config, job.queue)
        if fm is None or job.state != JobState.PENDING_HELD:
            raise Conflict(f"job {job.job_id} is {job.state.keyword} on {job.queue}: only a "
                           "held job of a Find-Me queue is released at a printer (released "
                           "already?)")
        if PayerReason.INFO_NEEDED in job.state_reasons:
            raise Conflict(f"job {job.job_id} waits for its account: choose one first")
        target = next((q for q in config.queues if q.name == printer), None)
        if printer not in fm.findme_printers or target is None:
            raise Invalid("printer", f"not a printer of Find-Me queue {fm.name}: one of "
                          f"{', '.join(fm.findme_printers)}")
        try:
            done = await self.releaser.release(job, fm, target, actor.name)
        except CannotRelease as e:
            raise Conflict(str(e)) from None
        except CreditRefused as e:
            raise Conflict(f"job {job.job_id} cannot be released at {printer}: {e}") from None
        except JobNotMovable as e:
            raise Conflict(str(e)) from None
        except JobNotFound:
            raise NotFound("job", uuid) from None
        self.notifier.job_changed(job.uuid)
        await asyncio.to_thread(self.audit.record, entry(
            actor, "job.findme", f"job:{job.uuid}",
            {"printer": job.queue, "price": done.before},
            {"printer": printer, "price": done.after, "grayscale": done.grayscale,
             "one_sided": done.one_sided}))
        return done
