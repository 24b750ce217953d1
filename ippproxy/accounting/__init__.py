"""ippproxy.accounting: users, groups, accounts, an idempotent ledger, cost models, quotas.

No HTTP here: sync SQLAlchemy 2 on an engine from :func:`ippproxy.db.make_engine`
(SQLite with BEGIN IMMEDIATE, or PostgreSQL with row locks).
"""

from ippproxy.accounting.charges import Charge, ChargeState, Outcome, Reservation
from ippproxy.accounting.cost import (
    CostModel,
    JobCounts,
    MediaCount,
    MediaPrice,
    Pricing,
    parse_amount,
    price,
)
from ippproxy.accounting.errors import (
    AccessDenied,
    AccountClosed,
    AccountingError,
    CreditRefused,
    InvalidOperation,
    NotFound,
    WrongPin,
)
from ippproxy.accounting.identity import canonical_name
from ippproxy.accounting.service import AccountingService, Estimate
from ippproxy.accounting.settings import AccountingSettings, GroupDefaults, Trust

Ledger = AccountingService  # the contract's other name (docs/interfaces.md)

__all__ = ["AccessDenied", "AccountClosed", "AccountingError", "AccountingService", "AccountingSettings",
           "Charge", "ChargeState", "CostModel", "CreditRefused", "Estimate", "GroupDefaults",
           "InvalidOperation", "JobCounts", "Ledger", "MediaCount", "MediaPrice", "NotFound",
           "Outcome", "Pricing", "Reservation", "Trust", "WrongPin", "canonical_name", "parse_amount",
           "price"]
