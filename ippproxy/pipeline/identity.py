"""Who printed it, on a queue with ``authentication = "popup"`` (issue 17; the seed's
"unauthenticated printer").

Theory of operation. A job sent to such a queue without credentials proves nobody: its
``requesting-user-name`` is only a claim. Intake therefore neither analyses it as that
user's, nor prices, reserves or creates a user for it: the job is stored ``pending-held``
with ``ippproxy-identity-needed`` (an implementation keyword, RFC 8011 §5.3.8) and nothing
reserved, and the claim only picks whose ``ippproxy-client`` is asked
(services/usernotices.py). The client answers with a user name and password, every job
(services/userside.py checks them); ``identify`` then makes the proven user the owner and
runs the steps intake skipped, as that user's (analyse, decide, reserve, as for a last
Send-Document: no conversion, the forced options go into the job's attributes), then
releases the job, or holds it again for the decision's reason (an account to choose, a
confirmation) or its payer's. A rule that denies the proven user cancels the job with the
reason. Unanswered, the popup timeout cancels it (unanswered.py): nothing was charged.
A job sent with valid credentials to such a queue is the proven user's, as on any queue.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from ippproxy.jobs import blob
from ippproxy.jobs.records import JobRecord, NewDocument
from ippproxy.jobs.state import InvalidTransition, JobEvent, JobState
from ippproxy.jobs.store import JobStore
from ippproxy.pipeline.admission import Admission
from ippproxy.pipeline.plan import Plan
from ippproxy.pipeline.refusal import Refused
from ippproxy.pipeline.submission import Submission, SubmissionChecks


class Intake(Protocol):
    """What ``identify`` needs of intake.Intake (which imports this module)."""

    store: JobStore

    async def meter(self, sub: Submission, p: Plan, docs: Sequence[NewDocument],
                    job_uuid: str, made: list[NewDocument] | None = None) -> Admission: ...

IDENTITY_NEEDED = "ippproxy-identity-needed"
UNPROVEN = Admission(hold=True, hold_reason=IDENTITY_NEEDED,
                     message="Confirm who printed this job in ippproxy-client (user name and "
                             "password).")


def waits_for_identity(job: JobRecord) -> bool:
    return job.state == JobState.PENDING_HELD and IDENTITY_NEEDED in job.state_reasons


async def identify(intake: Intake, job: JobRecord, user: str) -> JobRecord:
    """The held job ``job`` is ``user``'s (proven): priced, decided and reserved as theirs,
    then released or held again. ``Refused`` (a rule denies it, or the user may not
    print): the job is canceled with the reason."""
    store = intake.store
    await store.set_owner(job.uuid, user)
    docs = tuple(NewDocument(d.spool_name, d.size, d.sha256, d.format, d.name)
                 for d in job.documents)
    fmt = job.document_format or "application/octet-stream"
    sub = Submission(queue=job.queue, user=user, operation="Print-Job",
                     checks=SubmissionChecks({}), job_name=job.name or "")
    p = Plan(blob.unpack(job.attributes), (), fmt, "none", job.name or "untitled", None)
    try:
        admitted = await intake.meter(sub, p, docs, job.uuid)
    except Refused as e:
        await _cancel(intake, job, e.message)
        raise
    if admitted.analysis is not None:
        overrides = admitted.overrides
        await store.set_analysis(job.uuid, admitted.analysis,
                                 (lambda b: blob.with_values(b, overrides)) if overrides
                                 else None)
    if admitted.hold:
        return await store.transition(job.uuid, JobEvent.HOLD,
                                      reasons=(admitted.hold_reason,),
                                      message=admitted.message[:255] or None,
                                      hold_until="indefinite")
    return await store.transition(job.uuid, JobEvent.RELEASE, hold_until=None,
                                  reasons=None if job.closed else ("job-incoming",))


async def _cancel(intake: Intake, job: JobRecord, why: str) -> None:
    try:
        await intake.store.transition(job.uuid, JobEvent.CANCEL,
                                      reasons=("job-canceled-at-device",),
                                      message=f"refused: {why}"[:255])
    except InvalidTransition:   # canceled meanwhile
        pass
