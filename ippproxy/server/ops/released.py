"""IPP Release-Job of a job held for release (issue 17 §6, RFC 8011 §4.3.6), and an
approver's Cancel-Job (RFC 8011 §4.3.3) of a job awaiting approval: the release service
decides (services/release.py), with the asker as authn.py proved them. Nobody proven is
asked to authenticate (a claimed requesting-user-name releases nothing on a hold/release
queue); another user's job is ``client-error-not-authorized``; a printer that cannot print
(media-empty, media-jam, door-open, unreachable) is ``client-error-not-possible`` with the
reason, and the job stays held.

An approver answers "no" the way every IPP client can: Cancel-Job. On an approval queue a
proven user's Cancel-Job of someone else's job waiting for approval is the service's
refusal (``Release.cancel``, as ``POST /api/v1/me/jobs/{uuid}/cancel``): the job is
canceled "refused by" the approver, its reservation refunded by the settlement, its owner's
clients told; a user who approves nothing there is ``client-error-not-authorized``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from ippproxy.ipp import Status
from ippproxy.jobs.records import JobRecord
from ippproxy.server.context import OpRequest
from ippproxy.server.errors import IppError
from ippproxy.services.actor import Actor, Via
from ippproxy.services.errors import Conflict, Forbidden, NotFound
from ippproxy.services.release import Release
from ippproxy.services.release_rules import Mode


async def release_held(req: OpRequest, release: Release, job: JobRecord) -> None:
    await _decided(req, job, "released", lambda actor: release.release(actor, job.uuid))


def refusal(req: OpRequest, job: JobRecord) -> Release | None:
    """The release service when Cancel-Job of ``job`` is an approver's refusal: the job
    waits for approval and the asker (proven) is not its owner; None otherwise."""
    release = req.ctx.release
    if release is None or not req.identity.proven or job.owner == req.user:
        return None
    if not release.waits(job) or release.mode(job) != Mode.APPROVAL:
        return None
    return release


async def refuse_held(req: OpRequest, release: Release, job: JobRecord) -> JobRecord:
    return await _decided(req, job, "refused", lambda actor: release.cancel(actor, job.uuid))


async def _decided(req: OpRequest, job: JobRecord, what: str,
                   act: Callable[[Actor], Awaitable[JobRecord]]) -> JobRecord:
    name = req.identity.name
    if name is None:
        raise IppError(Status.CLIENT_ERROR_NOT_AUTHENTICATED,
                       f"job {job.job_id} is {what} by a proven user: authenticate "
                       "(ipps:// with your user name and password)")
    try:
        return await act(Actor(name, Via.IPP, superuser=req.identity.admin))
    except Forbidden as e:
        raise IppError(Status.CLIENT_ERROR_NOT_AUTHORIZED, e.detail[:255]) from None
    except Conflict as e:
        raise IppError(Status.CLIENT_ERROR_NOT_POSSIBLE, e.detail[:255]) from None
    except NotFound:
        raise IppError(Status.CLIENT_ERROR_NOT_FOUND,
                       f"job {job.job_id} does not exist") from None
