"""IPP Release-Job of a job held for release (issue 17 §6, RFC 8011 §4.3.6): the release
service decides (services/release.py), with the asker as authn.py proved them. Nobody
proven is asked to authenticate (a claimed requesting-user-name releases nothing on a
hold/release queue); another user's job is ``client-error-not-authorized``; a printer that
cannot print (media-empty, media-jam, door-open, unreachable) is ``client-error-not-possible``
with the reason, and the job stays held."""

from __future__ import annotations

from ippproxy.ipp import Status
from ippproxy.jobs.records import JobRecord
from ippproxy.server.context import OpRequest
from ippproxy.server.errors import IppError
from ippproxy.services.actor import Actor, Via
from ippproxy.services.errors import Conflict, Forbidden, NotFound
from ippproxy.services.release import Release


async def release_held(req: OpRequest, release: Release, job: JobRecord) -> None:
    name = req.identity.name
    if name is None:
        raise IppError(Status.CLIENT_ERROR_NOT_AUTHENTICATED,
                       f"job {job.job_id} is released by a proven user: authenticate "
                       "(ipps:// with your user name and password)")
    actor = Actor(name, Via.IPP, superuser=req.identity.admin)
    try:
        await release.release(actor, job.uuid)
    except Forbidden as e:
        raise IppError(Status.CLIENT_ERROR_NOT_AUTHORIZED, e.detail[:255]) from None
    except Conflict as e:
        raise IppError(Status.CLIENT_ERROR_NOT_POSSIBLE, e.detail[:255]) from None
    except NotFound:
        raise IppError(Status.CLIENT_ERROR_NOT_FOUND,
                       f"job {job.job_id} does not exist") from None
