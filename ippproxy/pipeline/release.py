"""The names a job held for its release carries (issue 17 §6), shared by the intake, which
holds it, and the release service (services/release.py), which releases it.

A job on a hold/release queue is stored ``pending-held`` with ``job-hold-until-specified``
(PWG 5100.7 §6.1.1: the queue's policy, not the client, asked for the hold); a PIN job with
``job-password-wait`` (PWG 5100.11 §5.3.2), and the salted hash of its PIN in its analysis
under ``PIN_KEY`` (never the PIN).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from ippproxy.ipp import Attribute
from ippproxy.jobs.records import JobRecord
from ippproxy.pipeline.admission import Admission
from ippproxy.pipeline.submission import Submission

RELEASE_HELD = "job-hold-until-specified"
PIN_HELD = "job-password-wait"
PIN_KEY = "job_password_hash"


PIN_ATTRIBUTES = frozenset({"job-password", "job-password-encryption"})


def without_pin(attributes: Sequence[Attribute]) -> list[Attribute]:
    """The job's attributes as stored: a PIN sent in the job group is never kept (only
    its salted hash, in the analysis)."""
    return [a for a in attributes if a.name not in PIN_ATTRIBUTES]


def pin_of(job: JobRecord) -> str | None:
    found = (job.analysis or {}).get(PIN_KEY)
    return found if isinstance(found, str) else None


def held_for_release(sub: Submission, admitted: Admission) -> Admission:
    """The admission held for its release (a hold/release queue, a PIN job: issue 17 §6),
    its price reserved as usual; a job already held for its payer or by a rule keeps that
    hold, which is resolved first. A PIN job keeps its PIN's hash (never the PIN)."""
    if sub.pin_hash:
        admitted = replace(admitted, analysis={**(admitted.analysis or {}),
                                               PIN_KEY: sub.pin_hash})
    if sub.release_hold is None or admitted.hold:
        return admitted
    message = ("enter the job's PIN at the printer to print it"
               if sub.release_hold == PIN_HELD else "held until released at the printer")
    return replace(admitted, hold=True, hold_reason=sub.release_hold, message=message)
