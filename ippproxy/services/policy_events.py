"""The policy messages a user's clients are shown (issue 17 point 3), no I/O: what the rules
did to a job, a job they denied, and a balance corrected by an admin.

``usernotices.UserNotices`` sends them on the user's live stream beside ``job-state``:

* ``policy`` for a job of theirs: ``actions`` among ``grayscale`` (converted to grayscale
  or printed monochrome by a rule, or for a Find-Me printer without colour), ``duplex``
  (duplex forced), ``one-sided`` (a Find-Me printer without duplex), ``held`` (held by a
  rule, for approval or on a Find-Me queue: not a question the user answers, those are
  ``account-needed`` and ``confirm-needed``), with the rule's message; once per job and
  message.
* ``policy`` with ``denied`` for a job a rule refused (it was never stored: the job's
  printer and the reason, from the admin side's ``job-denied`` event).
* ``balance-correction``: an admin changed the user's personal balance (the amount, the
  reason, the new balance), followed by a fresh ``balance``.
"""

from __future__ import annotations

from typing import Any

from ippproxy.jobs.records import JobRecord
from ippproxy.jobs.state import JobState
from ippproxy.pipeline.payer import is_payer_held
from ippproxy.policies.accounts import CONFIRMATION_NEEDED

POLICY = "policy"
CORRECTION = "balance-correction"


def _held_by_rule(job: JobRecord) -> bool:
    return job.state == JobState.PENDING_HELD and not is_payer_held(job.state_reasons) \
        and CONFIRMATION_NEEDED not in job.state_reasons


def policy_of(job: JobRecord) -> dict[str, Any] | None:
    """The ``policy`` event of ``job``; None when no rule changed or held it."""
    analysis = job.analysis or {}
    found = analysis.get("findme")
    findme: dict[str, Any] = found if isinstance(found, dict) else {}
    actions = [name for name, on in (("grayscale", analysis.get("grayscale")),
                                     ("duplex", analysis.get("duplex")),
                                     ("one-sided", findme.get("one_sided")),
                                     ("held", _held_by_rule(job))) if on]
    if not actions:
        return None
    parts = [analysis.get("policy"), findme.get("note"),
             job.state_message if _held_by_rule(job) else None]
    message = "; ".join(str(p).rstrip(". ") for p in parts if p)
    return {"uuid": job.uuid, "job_id": job.job_id, "printer": job.queue, "name": job.name,
            "actions": actions, "message": message}


def about(job: JobRecord, message: str) -> dict[str, Any]:
    """The ``policy`` event of a message about ``job`` (``printed-as``: printed as another
    user, services/printas.py)."""
    return {"uuid": job.uuid, "job_id": job.job_id, "printer": job.queue, "name": job.name,
            "actions": ["printed-as"], "message": message}


def denied(queue: str | None, message: str) -> dict[str, Any]:
    """The ``policy`` event of a job a rule refused (never stored: no uuid, no job-id)."""
    return {"uuid": None, "job_id": None, "printer": queue, "name": None,
            "actions": ["denied"], "message": message}


def correction(account: dict[str, Any], amount: int, reason: str) -> dict[str, Any]:
    """The ``balance-correction`` event of an admin's change to ``account`` (as
    ``services.users`` returns it)."""
    return {"amount": amount, "reason": reason, "balance": account.get("balance"),
            "currency": account.get("currency"), "account": account.get("code")}
