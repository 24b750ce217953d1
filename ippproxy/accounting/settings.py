"""How accounting behaves: the currency, whose count prices a printed job, and what a
user created on print starts with (built from the configuration by the composition root).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Trust(StrEnum):
    """Whose impression count prices a printed job."""

    OURS = "ours"  # our count; the printer's only logged when it differs
    PRINTER = "printer"  # the printer's job-impressions-completed when reported
    LOWER = "lower"  # the lower of the two


@dataclass(frozen=True)
class AccountingSettings:
    currency: str = "EUR"
    exponent: int = 2  # ISO 4217 minor unit digits
    trust: Trust = Trust.OURS
    create_unknown_users: bool = True  # False: unknown users are refused
    new_user_group: str = ""  # whose initial_* defaults apply to users created on print
    new_user_balance: int = 0
    new_user_restricted: bool = True
    new_user_credit_limit: int = 0
    node: str = ""  # storage.node: charges remember the node that reserved them


DEFAULTS = AccountingSettings()


@dataclass(frozen=True)
class GroupDefaults:
    """A configured group and what a user created into it starts with (minor units)."""

    name: str
    initial_balance: int = 0
    initial_restricted: bool = True
    initial_credit_limit: int = 0
