""""Print as another user" (issue 17 item 2; PaperCut's account selection popup): the
owner of a job held for its account answers with another user's name and password; the
job is then charged to and logged as that user. No HTTP.

Theory of operation. Offered only where the ask-account rule that held the job allows it
(``allow_print_as_other``, decided at intake and kept in the job's analysis as
``print_as_other``): elsewhere the answer is ``Forbidden``. The password is checked as a
login (``check_password``: ``Admins.authenticate``, the LDAP bind for a directory user),
under the login throttle of that name and the client's address (past the free tries
``Throttled`` before any check); a wrong password (or a user who may not log in: disabled,
deleted, the master) is ``Forbidden``, audited, and the job keeps waiting. Once proven,
the job's owner becomes that user and their personal account pays (``pay``, idempotent by
job UUID); if they cannot pay, the owner goes back and the job stays held
(``Conflict``). Both users are told (their ``policy`` events) and the audit entry names
both.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from ippproxy.accounting.identity import canonical_name
from ippproxy.jobs.records import JobRecord
from ippproxy.jobs.state import JobState
from ippproxy.pipeline.payer import CHOSEN, PRINT_AS_OTHER, is_payer_held
from ippproxy.services.actor import Actor
from ippproxy.services.auditsink import entry
from ippproxy.services.errors import Conflict, Forbidden, Invalid, Throttled
from ippproxy.services.userside import UserSide, with_account

Tell = Callable[[str, JobRecord, str], None]   # (user, job, message)


def offered(job: JobRecord) -> bool:
    """Whether the question that holds ``job`` offers "print as another user"."""
    return bool((job.analysis or {}).get(PRINT_AS_OTHER))


def _key(name: str) -> str:
    """The login throttle's key for ``name`` (as a failed login counts it)."""
    try:
        return canonical_name(name)
    except ValueError:
        return name[:255].encode("unicode_escape").decode("ascii")[:255]


class PrintAsOther:
    def __init__(self, side: UserSide, tell: Tell = lambda user, job, message: None
                 ) -> None:
        self.side = side
        self.tell = tell   # a user's clients are told (usernotices: a policy event)

    async def answer(self, actor: Actor, uuid: str, name: str, password: str, *,
                     address: str = "") -> JobRecord:
        """Charge the job to ``name``'s personal account, owned by ``name`` from now."""
        side = self.side
        if side.check_password is None:
            raise Forbidden("printing as another user is not offered here")
        async with side.answering(uuid):
            job = await side.job(actor, uuid)
            if job.state != JobState.PENDING_HELD or not is_payer_held(job.state_reasons):
                raise Conflict(f"job {job.job_id} is {job.state.keyword} and waits for no "
                               "account (answered already, or too late)")
            if not offered(job):
                raise Forbidden(f"printing as another user is not offered for job "
                                f"{job.job_id} on {job.queue}")
            key = _key(name)
            if side.throttle is not None:
                wait = await asyncio.to_thread(side.throttle.retry_after, key, address)
                if wait > 0:
                    raise Throttled("too many failed logins; try again later", wait)
            principal = await asyncio.to_thread(side.check_password, name, password)
            if principal is None or principal.master:   # the master prints nothing
                if side.throttle is not None:
                    await asyncio.to_thread(side.throttle.failed, key, address)
                await asyncio.to_thread(side.audit.record, entry(
                    actor, "job.as-user-failed", f"job:{job.uuid}", None,
                    {"as_user": key, "address": address}))
                raise Forbidden("wrong name or password, or that user may not print: "
                                f"job {job.job_id} keeps waiting")
            other = principal.name
            if other == actor.name:
                raise Invalid("as_user", "that is you: choose one of your accounts instead")
            return await self._charge(actor, job, other)

    async def _charge(self, actor: Actor, job: JobRecord, other: str) -> JobRecord:
        side = self.side
        analysis: dict[str, Any] = {**(job.analysis or {}), "account": None, CHOSEN: True}
        await side.store.set_owner(job.uuid, other)
        await side.store.set_analysis(job.uuid, analysis, with_account(None))
        current = await side.store.get_by_uuid(job.uuid)
        hold = None if current is None else await side.pay(current, None)
        if current is None or hold is not None:
            await side.store.set_owner(job.uuid, job.owner)   # nothing charged: back
            if hold is not None:
                await side.hold_again(job, hold)
            why = hold.message if hold is not None else "it is gone"
            raise Conflict(f"job {job.job_id} stays held: {other} cannot pay: {why}")
        done = await side.proceed(job, current)
        await asyncio.to_thread(side.audit.record, entry(
            actor, "job.as-user", f"job:{job.uuid}", {"owner": job.owner},
            {"owner": other, "account": "personal"}))
        self.tell(actor.name, done, f"job {job.job_id} printed as {other}, charged to "
                                    f"{other}'s account")
        self.tell(other, done, f"{actor.name} printed job {job.job_id} as you, charged to "
                               "your account")
        return done
