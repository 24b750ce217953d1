"""What the server adds to a submission for secure release (issue 17 §6): the hold of a
hold/release queue and a PIN job's checked, hashed ``job-password`` (PWG 5100.11 §5.1.7).

A job-password is taken over IPPS only (in clear over plain ``ipp://`` anyone on the path
could read the PIN): ``client-error-not-authorized`` naming the attribute. Letters, the wrong
length or an unknown encryption are ``client-error-bad-request`` naming job-password. A
queue with ``pin_required`` refuses a job without one (``client-error-bad-request``: it is
in printer-mandatory-job-attributes, PWG 5100.11 §5.1.7 / PWG 5100.13 §5.6.19)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from ippproxy.ipp import Status, Tag
from ippproxy.jobs.records import JobRecord
from ippproxy.pipeline.release import PIN_HELD, PIN_KEY, RELEASE_HELD
from ippproxy.server.context import OpRequest, QueueRuntime
from ippproxy.server.errors import IppError
from ippproxy.services.job_pin import BadPin, digest_of, hash_pin

PASSWORD = "job-password"
ENCRYPTION = "job-password-encryption"


@dataclass(frozen=True)
class Hold:
    reason: str | None = None        # job-state-reasons keyword of the hold, None: no hold
    pin_hash: str | None = None


def _attr(req: OpRequest, name: str) -> object:
    """From the operation group, or (as some clients send it) the job group."""
    a = req.op(name) or req.msg.get(Tag.JOB_ATTRIBUTES, name)
    return None if a is None else a.value


async def submission_hold(req: OpRequest, q: QueueRuntime) -> Hold:
    """The hold and PIN hash of a Print-Job, Create-Job or Validate-Job."""
    value = _attr(req, PASSWORD)
    queue_hold = RELEASE_HELD if q.config.release != "none" else None
    if value is None:
        if q.config.pin_required:
            raise IppError(Status.CLIENT_ERROR_BAD_REQUEST,
                           f"{PASSWORD} is mandatory on {q.name}: print with a PIN")
        return Hold(queue_hold)
    if not req.origin.secure:
        raise IppError(Status.CLIENT_ERROR_NOT_AUTHORIZED,
                       f"{PASSWORD} is accepted over ipps:// only (a PIN must not travel "
                       "in clear)")
    encryption = _attr(req, ENCRYPTION)
    if encryption is None:
        encryption = "none"
    if not isinstance(value, bytes) or not isinstance(encryption, str):
        raise IppError(Status.CLIENT_ERROR_BAD_REQUEST,
                       f"{PASSWORD} must be an octetString, {ENCRYPTION} a keyword")
    try:
        digest = digest_of(value, encryption)
    except BadPin as e:
        raise IppError(Status.CLIENT_ERROR_BAD_REQUEST, str(e)) from None
    return Hold(PIN_HELD, await asyncio.to_thread(hash_pin, digest))


def document_hold(q: QueueRuntime, job: JobRecord) -> Hold:
    """Send-Document: the hold its Create-Job asked for (the PIN hash is in the job)."""
    found = (job.analysis or {}).get(PIN_KEY)
    if isinstance(found, str):
        return Hold(PIN_HELD, found)
    return Hold(RELEASE_HELD if q.config.release != "none" else None)
