"""What a policy says about a job: allow, deny, hold, or modify (force options)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

HOLD_REASON = "job-hold-until-specified"


class Action(IntEnum):
    """Ordered by severity: a chain's result is the most severe decision."""

    ALLOW = 0
    MODIFY = 1
    HOLD = 2
    DENY = 3


@dataclass(frozen=True)
class Decision:
    """``reason`` reaches the user as IPP status-message / job-state-message.

    ``force_grayscale`` / ``force_duplex`` are modifications applied with the
    filters' conversions (and charged at the converted price) when the job is
    allowed or held; on a denial they mean nothing.
    """

    action: Action = Action.ALLOW
    reason: str = ""
    force_grayscale: bool = False
    force_duplex: bool = False
    policy: str = ""  # name of the rule that decided (for logs and the job record)
    # A hold's job-state-reasons keyword (RFC 8011 §5.3.8, PWG 5100.3 / 5100.7 add
    # e.g. "account-info-needed"); meaningless for the other actions.
    hold_reason: str = HOLD_REASON
    # The shared account to charge when the job names none (a charge-account rule,
    # policies/accounts.py); "" : the owner's personal account. Kept with any action.
    account: str = ""
    # An ask-account hold whose question also offers "print as another user".
    print_as_other: bool = False

    @classmethod
    def allow(cls) -> Decision:
        return cls()

    @classmethod
    def deny(cls, reason: str, policy: str = "") -> Decision:
        return cls(Action.DENY, reason, policy=policy)

    @classmethod
    def hold(cls, reason: str, policy: str = "", keyword: str = HOLD_REASON) -> Decision:
        return cls(Action.HOLD, reason, policy=policy, hold_reason=keyword)

    @classmethod
    def modify(cls, reason: str, *, grayscale: bool = False, duplex: bool = False,
               policy: str = "") -> Decision:
        return cls(Action.MODIFY, reason, grayscale, duplex, policy)

    @property
    def allowed(self) -> bool:
        return self.action in (Action.ALLOW, Action.MODIFY)
