"""What a user does for themselves (issue 17), no HTTP: their own jobs, the accounts they
may charge, the answer to a job's account question, and the "last chance" confirmation.

Theory of operation. A job held for its payer (``pipeline/payer.py``: ``pending-held`` with
``account-info-needed``, ``account-authorization-failed``, ``account-closed`` or
``account-limit-reached``) waits for its owner to name an account. ``choose_account``
writes the choice into the job as ``job-account-id`` (none: the personal account), then
charges the job (``pay``: ``Intake.pay_held``, idempotent by job UUID) and releases it. If
the chosen account cannot pay either, the job stays held with the new reason and the
answer says why (``Conflict``). A job that is not the actor's is ``NotFound`` (nobody learns
of another user's jobs); one no longer waiting (answered already, canceled by the popup
timeout, released) is ``Conflict``. Answers for one job are taken one at a time on this
node; across nodes the charge's key (the job UUID) keeps it charged once.

A job of an ``authentication = "popup"`` queue sent without credentials waits for its
user's client, or a client at the address it was sent from (nearby.py), to confirm who
printed it (``pipeline/identity.py``): ``confirm_identity`` takes a user name and
password, every job (``check_password``, the same check as a
login); the job named the client's user as its ``requesting-user-name``, but the password
decides: the proven user owns the job and pays for it (``identify``). A wrong password is
``Forbidden`` and the job keeps waiting.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import Engine

from ippproxy.accounting.available import UsableAccount, usable_accounts
from ippproxy.accounting.identity import canonical_name
from ippproxy.db import reading
from ippproxy.ipp import Attribute, Tag
from ippproxy.jobs import blob
from ippproxy.jobs.records import JobRecord
from ippproxy.jobs.search import JobQuery
from ippproxy.jobs.state import InvalidTransition, JobEvent, JobState
from ippproxy.jobs.store import JobStore
from ippproxy.pipeline.findme import HOLD_REASON as FINDME_HELD
from ippproxy.pipeline.identity import waits_for_identity
from ippproxy.pipeline.payer import CHOSEN, PayerHold, is_payer_held
from ippproxy.pipeline.refusal import Refused
from ippproxy.pipeline.release import RELEASE_HELD
from ippproxy.policies.accounts import CONFIRMATION_NEEDED
from ippproxy.services.actor import Actor
from ippproxy.services.admins import Principal
from ippproxy.services.auditsink import AuditSink, entry
from ippproxy.services.errors import Conflict, Forbidden, Invalid, NotFound
from ippproxy.services.jobs import JobNotifier
from ippproxy.services.nearby import from_address

ACCOUNT_ATTRIBUTES = ("job-account-id", "job-billing")
MAX_JOBS = 200


def owns(actor: Actor, job: JobRecord) -> bool:
    try:
        return canonical_name(job.owner) == actor.name
    except ValueError:
        return False


def _with_account(code: str | None) -> Callable[[bytes], bytes]:
    def edit(attributes: bytes) -> bytes:
        kept = [a for a in blob.unpack(attributes) if a.name not in ACCOUNT_ATTRIBUTES]
        if code is not None:   # PWG 5100.7 §5.2.1: job-account-id (name)
            kept.append(Attribute.single("job-account-id", Tag.NAME, code))
        return blob.pack(kept)
    return edit


class UserSide:
    def __init__(self, store: JobStore, engine: Engine, notifier: JobNotifier,
                 audit: AuditSink,
                 pay: Callable[[JobRecord], Awaitable[PayerHold | None]],
                 keep_held: Callable[[JobRecord], str | None] = lambda job: None, *,
                 check_password: Callable[[str, str], Principal | None] | None = None,
                 identify: Callable[[JobRecord, str], Awaitable[JobRecord]] | None = None
                 ) -> None:
        self.store = store
        self.check_password = check_password   # Admins.authenticate
        self.identify = identify
        self.engine = engine
        self.notifier = notifier
        self.audit = audit
        self.pay = pay
        # A job that stays held once paid (a Find-Me job waits for its printer): the
        # message; None: released (pipeline/findme.py).
        self.keep_held = keep_held
        # Whether a paid job goes on waiting for its release (a hold/release queue, issue
        # 17 §6: services/release.py) instead of printing at once.
        self.release_queue: Callable[[JobRecord], bool] = lambda job: False
        self._answering: dict[str, asyncio.Lock] = {}

    async def jobs(self, actor: Actor, *, limit: int = 50) -> list[JobRecord]:
        """The actor's own jobs, newest first."""
        found, _ = await self.store.search_jobs(JobQuery(
            owner=actor.name, limit=max(1, min(limit, MAX_JOBS))))
        return [j for j in found if owns(actor, j)]

    def accounts(self, actor: Actor) -> list[UsableAccount]:
        """The accounts the actor may charge (blocking: run it in a thread)."""
        with reading(self.engine) as conn:   # each popup and job change: no write lock
            return usable_accounts(conn, actor.name)

    async def job(self, actor: Actor, uuid: str, *, address: str = "") -> JobRecord:
        """The actor's job ``uuid``; with ``address``, also one sent from that network
        address (nearby.py: who printed it is asked there). Any other is ``NotFound``."""
        job = None
        if 0 < len(uuid) <= 64 and uuid.isprintable():
            job = await self.store.get_by_uuid(uuid)
        if job is None or not (owns(actor, job) or from_address(job, address)):
            raise NotFound("job", uuid)
        return job

    async def choose_account(self, actor: Actor, uuid: str, code: str | None) -> JobRecord:
        """Charge the job to ``code`` (None: the personal account) and release it."""
        if code is not None and not (0 < len(code) <= 64 and code.isprintable()):
            raise Invalid("account", "an account code of 1 to 64 printable characters")
        lock = self._answering.setdefault(uuid, asyncio.Lock())
        try:
            async with lock:
                return await self._choose(actor, uuid, code)
        finally:
            if not lock.locked():
                self._answering.pop(uuid, None)

    async def _choose(self, actor: Actor, uuid: str, code: str | None) -> JobRecord:
        job = await self.job(actor, uuid)
        if job.state != JobState.PENDING_HELD or not is_payer_held(job.state_reasons):
            raise Conflict(f"job {job.job_id} is {job.state.keyword} and waits for no "
                           "account (answered already, or too late)")
        analysis: dict[str, Any] = {**(job.analysis or {}), "account": code, CHOSEN: True}
        edit = _with_account(code)
        # Charged as chosen, then the choice and the job's next state in one write (one
        # commit, not two: issue 17's answers under load). A crash between the two leaves
        # the job waiting with its charge reserved: answering again replays that charge
        # (reserve is idempotent by job UUID), a timeout cancels the job and the
        # settlement refunds it.
        chosen = dataclasses.replace(job, analysis=analysis,
                                     attributes=edit(job.attributes))
        hold = await self.pay(chosen)
        reasons: tuple[str, ...] | None
        if hold is not None:
            event, reasons, message = JobEvent.HOLD, (hold.reason,), hold.message
        elif (why := self.keep_held(chosen)) is not None:
            event, reasons, message = JobEvent.HOLD, (FINDME_HELD,), why
        elif self.release_queue(chosen):
            event, reasons = JobEvent.HOLD, (RELEASE_HELD,)
            message = "paid; held until released at the printer"
        else:
            event, message = JobEvent.RELEASE, ""
            reasons = None if chosen.closed else ("job-incoming",)
        try:
            current = await self.store.transition(
                job.uuid, event, reasons=reasons, message=message[:255] or None,
                hold_until="indefinite" if event == JobEvent.HOLD else None,
                analysis=analysis, edit_attributes=edit)
        except InvalidTransition:   # canceled meanwhile: a charge made is refunded
            self.notifier.job_changed(job.uuid)
            raise Conflict(f"job {job.job_id} was canceled meanwhile") from None
        self.notifier.job_changed(job.uuid)
        await asyncio.to_thread(self.audit.record, entry(
            actor, "job.account", f"job:{job.uuid}", {"reasons": list(job.state_reasons)},
            {"account": code or "personal", "held": hold is not None}))
        if hold is not None:
            raise Conflict(f"job {job.job_id} stays held: {hold.message}")
        return current

    async def confirm(self, actor: Actor, uuid: str, go: bool) -> JobRecord:
        """The "last chance" answer (a confirm-job rule): print the job, or cancel it
        (its reservation is refunded by the settlement, as for any job canceled before it
        printed)."""
        lock = self._answering.setdefault(uuid, asyncio.Lock())
        try:
            async with lock:
                job = await self.job(actor, uuid)
                if job.state != JobState.PENDING_HELD or \
                        CONFIRMATION_NEEDED not in job.state_reasons:
                    raise Conflict(f"job {job.job_id} is {job.state.keyword} and waits for "
                                   "no confirmation (answered already, or too late)")
                try:
                    if go:
                        new = await self.store.transition(
                            job.uuid, JobEvent.RELEASE, hold_until=None,
                            reasons=None if job.closed else ("job-incoming",))
                    else:
                        new = await self.store.transition(
                            job.uuid, JobEvent.CANCEL, reasons=("job-canceled-by-user",),
                            message="canceled by its owner before printing")
                except InvalidTransition:
                    raise Conflict(f"job {job.job_id} changed meanwhile") from None
        finally:
            if not lock.locked():
                self._answering.pop(uuid, None)
        self.notifier.job_changed(job.uuid)
        await asyncio.to_thread(self.audit.record, entry(
            actor, "job.confirm", f"job:{job.uuid}", None, {"print": go}))
        return new

    async def confirm_identity(self, actor: Actor, uuid: str, name: str, password: str,
                               address: str = "") -> JobRecord:
        """Who printed a job of a "popup" queue: ``name`` with ``password`` owns it. The
        actor answers for a job in their name or one sent from ``address``, the network
        address they answer from (nearby.py)."""
        if self.check_password is None or self.identify is None:
            raise NotFound("identity service", "me")
        lock = self._answering.setdefault(uuid, asyncio.Lock())
        try:
            async with lock:
                job = await self.job(actor, uuid, address=address)
                if not waits_for_identity(job):
                    raise Conflict(f"job {job.job_id} is {job.state.keyword} and waits for "
                                   "no confirmation of who printed it (answered already, or "
                                   "too late)")
                principal = await asyncio.to_thread(self.check_password, name, password)
                if principal is None or principal.master:   # the master prints nothing
                    raise Forbidden("wrong name or password: the job keeps waiting")
                proven = principal.name
                try:
                    new = await self.identify(job, proven)
                except Refused as e:
                    raise Conflict(f"job {job.job_id} was canceled: {e.message}") from None
                except InvalidTransition:
                    raise Conflict(f"job {job.job_id} changed meanwhile") from None
        finally:
            if not lock.locked():
                self._answering.pop(uuid, None)
            self.notifier.job_changed(uuid)
        await asyncio.to_thread(self.audit.record, entry(
            actor, "job.identity", f"job:{job.uuid}", {"owner": job.owner},
            {"owner": proven}))
        return new
