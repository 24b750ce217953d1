"""Accounting errors. Messages are plain sentences a user may read (status-message)."""

from __future__ import annotations


class AccountingError(Exception):
    """Base class; ``str(err)`` is a message fit for an IPP status-message."""


class NotFound(AccountingError):
    pass


class AccessDenied(AccountingError):
    pass


class WrongPin(AccessDenied):
    """A shared account's PIN (issue 17 §5: it proves the right to charge the account)
    was missing or wrong; told apart so that its guesses can be throttled."""


class AccountClosed(AccessDenied):
    """The account exists but is disabled: job-state-reasons account-closed."""


class InvalidOperation(AccountingError):
    pass


class NotPermitted(AccountingError):
    """A role the operation needs is not granted (roles.py): client-error-not-authorized."""


class CreditRefused(AccountingError):
    """A restricted account cannot pay: becomes client-error-account-limit-reached."""

    def __init__(self, message: str, *, balance: int, cost: int, credit_limit: int,
                 currency: str) -> None:
        super().__init__(message)
        self.balance = balance
        self.cost = cost
        self.credit_limit = credit_limit
        self.currency = currency
