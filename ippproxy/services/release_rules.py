"""Who may release a job held for release, and whether its printer can print: pure rules,
no I/O (issue 17 §6; services/release.py applies them).

A job is held for release when it is ``pending-held`` with ``job-hold-until-specified``
on a hold/release queue (PWG 5100.7 / RFC 8011 §5.3.8: the queue's policy holds it, not
the client's ``job-hold-until``, which a desktop Linux client's local cupsd consumes), or
with ``job-password-wait`` (PWG 5100.11 §5.3.2: a PIN job, released by its PIN).

The queue's ``release``:

=============  =====================================================================
none           only PIN jobs wait; their owner cannot skip the PIN (an admin can)
secure         the job's owner or an admin
release-any    any authenticated user (a shared office), or an admin
approval       an approver (the queue's ``approvers``: user names, ``@group``; or a
               user with the release-approver role) or an admin; the owner may cancel
=============  =====================================================================

A printer that reports ``media-empty``, ``media-jam`` or ``door-open`` (any severity
suffix, RFC 8011 §5.4.12) or cannot be reached (``offline-report``, or never answered)
refuses the release: the job stays held and the answer names the reason.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from ippproxy.jobs.records import JobRecord
from ippproxy.jobs.state import JobState
from ippproxy.pipeline.release import PIN_HELD, PIN_KEY, RELEASE_HELD


class Mode(enum.StrEnum):
    NONE = "none"
    SECURE = "secure"
    ANY = "release-any"
    APPROVAL = "approval"


# printer-state-reasons that stop a release (RFC 8011 §5.4.12 keywords, suffix removed).
BLOCKING = ("media-empty", "media-jam", "door-open")
UNREACHABLE = "offline-report"


def mode_of(value: str) -> Mode:
    try:
        return Mode(value)
    except ValueError:
        return Mode.NONE


def pin_job(job: JobRecord) -> bool:
    return PIN_KEY in (job.analysis or {})


def waits_for_release(job: JobRecord, mode: Mode) -> bool:
    """The job is held for its release (not for its payer, a rule or an operator)."""
    if job.state != JobState.PENDING_HELD:
        return False
    if PIN_HELD in job.state_reasons:
        return True
    return mode != Mode.NONE and RELEASE_HELD in job.state_reasons


@dataclass(frozen=True)
class Asker:
    """Who asks, as proven: ``admin`` may change printers (Section.PRINTERS write);
    ``approver`` is named by the queue (directly, by a group) or has the role."""

    name: str
    admin: bool = False
    approver: bool = False


def refusal(asker: Asker, owner: str, mode: Mode, *, pin_given: bool = False) -> str | None:
    """Why ``asker`` may not release the job; None when they may."""
    if asker.admin:
        return None
    if mode == Mode.APPROVAL:
        return None if asker.approver else "only an approver of this printer may release it"
    if mode == Mode.ANY:
        return None
    if asker.name != owner and not pin_given:
        return "only its owner may release it"
    return None


def may_cancel(asker: Asker, owner: str, mode: Mode) -> bool:
    """The owner and admins cancel; an approver refuses (cancels) on an approval queue."""
    return asker.admin or asker.name == owner or (mode == Mode.APPROVAL and asker.approver)


def is_approver(name: str, groups: Iterable[str], approvers: Iterable[str],
                role: bool) -> bool:
    """Named by the queue's ``approvers`` (a name, or ``@group`` of one of ``groups``), or
    holding the release-approver role."""
    named = set(approvers)
    return role or name in named or any(f"@{g}" in named for g in groups)


def _base(reason: str) -> str:
    for suffix in ("-report", "-warning", "-error"):   # RFC 8011 §5.4.12
        if reason.endswith(suffix):
            return reason[: -len(suffix)]
    return reason


def cannot_print(reasons: frozenset[str] | None) -> str | None:
    """The printer-state-reasons keyword that stops a release (None: it can print).
    ``reasons`` None: the printer never answered."""
    if reasons is None or UNREACHABLE in reasons or "offline" in {_base(r) for r in reasons}:
        return "unreachable"
    for r in sorted(reasons):
        if _base(r) in BLOCKING:
            return _base(r)
    return None
