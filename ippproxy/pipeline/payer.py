"""Payer problems hold a job, they never refuse it (issue 17).

No client shows a prompt for ``client-error-account-*`` statuses, and CUPS's IPP backend
retries them for ever. So a job whose payer is not settled is accepted and stored
``pending-held`` with one of the PWG 5100.7 job-state-reasons below and a job-state-message
saying why; nothing is reserved for it. The owner (or an admin) resolves it (an account
chosen, credit added) and releases the job: ``Intake.pay_held`` then reserves the price the
job was counted at (kept in its analysis as ``priced``); if the payer still cannot pay, the
job stays held with the new reason. A user who may not print at all (disabled, unknown with
``unknown_users = "refuse"``, denied by a rule) is still refused, with
``client-error-not-authorized`` and the reason.

A job on a queue with ``account_required`` (``printer-mandatory-job-attributes`` lists
``job-account-id``) that names no account is held with ``account-info-needed``.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ippproxy.accounting import (
    AccessDenied,
    AccountClosed,
    AccountingError,
    CreditRefused,
    JobCounts,
    MediaCount,
    NotFound,
    WrongPin,
)
from ippproxy.ipp import Status


class PayerReason(enum.StrEnum):
    """job-state-reasons of a job held for its payer (PWG 5100.7 §6.1.1 / IANA registry)."""

    INFO_NEEDED = "account-info-needed"
    AUTHORIZATION_FAILED = "account-authorization-failed"
    CLOSED = "account-closed"
    LIMIT_REACHED = "account-limit-reached"


PAYER_REASONS = frozenset(r.value for r in PayerReason)
# The status a release answers while the payer is still not settled (PWG 5100.16 §7.1).
RELEASE_STATUS = {
    PayerReason.INFO_NEEDED: Status.CLIENT_ERROR_ACCOUNT_INFO_NEEDED,
    PayerReason.AUTHORIZATION_FAILED: Status.CLIENT_ERROR_ACCOUNT_AUTHORIZATION_FAILED,
    PayerReason.CLOSED: Status.CLIENT_ERROR_ACCOUNT_CLOSED,
    PayerReason.LIMIT_REACHED: Status.CLIENT_ERROR_ACCOUNT_LIMIT_REACHED,
}


@dataclass(frozen=True)
class PayerHold:
    """Why the job waits for its payer: the job-state-reasons keyword and the message."""

    reason: PayerReason
    message: str
    # The chosen shared account's PIN was missing or wrong (accounting.WrongPin): a guess
    # the owner's answer counts against the throttle (services/userside.py).
    wrong_pin: bool = False


# In a job's analysis: its owner chose the account (the personal one when no
# job-account-id), which satisfies a queue that needs an account.
CHOSEN = "account_chosen"
# In a job's analysis: the question of the rule that held it offers "print as another
# user" (an ask-account rule's allow_print_as_other, decided at intake).
PRINT_AS_OTHER = "print_as_other"
NO_ACCOUNT = PayerHold(PayerReason.INFO_NEEDED,
                       "this printer needs an account (job-account-id): choose one, then "
                       "release the job")


def payer_hold(e: AccountingError) -> PayerHold | None:
    """The hold for a payer problem; None for any other accounting error (a refusal)."""
    if isinstance(e, CreditRefused):
        return PayerHold(PayerReason.LIMIT_REACHED, str(e))
    if isinstance(e, AccountClosed):
        return PayerHold(PayerReason.CLOSED, str(e))
    if isinstance(e, WrongPin):
        return PayerHold(PayerReason.AUTHORIZATION_FAILED, str(e), wrong_pin=True)
    if isinstance(e, (AccessDenied, NotFound)):
        return PayerHold(PayerReason.AUTHORIZATION_FAILED, str(e))
    return None


def is_payer_held(reasons: Sequence[str]) -> bool:
    return any(r in PAYER_REASONS for r in reasons)


def priced_json(counts: JobCounts) -> list[list[Any]]:
    """The counts a job is priced by, as kept in its analysis column."""
    return [[m.media, m.mono, m.color, m.sheets, m.mono_duplexed, m.color_duplexed]
            for m in counts.per_media]


def priced_counts(analysis: dict[str, Any] | None) -> JobCounts | None:
    """The counts kept by ``priced_json``; None when the job has none (or they are not
    well formed: such a job cannot be priced and stays held)."""
    rows = None if analysis is None else analysis.get("priced")
    if not isinstance(rows, list):
        return None
    try:
        return JobCounts(tuple(MediaCount(str(r[0]), int(r[1]), int(r[2]), int(r[3]),
                                          int(r[4]), int(r[5])) for r in rows))
    except (TypeError, ValueError, IndexError):
        return None
