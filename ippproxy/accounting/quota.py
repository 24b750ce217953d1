"""Scheduled allocations per group, applied exactly once per period.

Theory of operation
-------------------
A group with ``quota_period`` (``daily``, ``weekly`` or ``monthly``) gives each
live member's personal account ``quota_amount`` once per period, but never
above ``quota_cap`` (when set): the allocation is ``min(amount, cap - balance)``
and nothing when the balance is already at or above the cap.

Exactly once, across restarts and nodes: each allocation is a ledger row with
the idempotency key ``quota:<group id>:<period id>:<account id>`` (period ids
``2024-05-01``, ``2024-W18`` (ISO week), ``2024-05``; UTC). Applying again in
the same period replays those rows; a member who joins mid-period gets the
allocation at the next run. A capped allocation that adds nothing is still
written (amount 0) so that spending later in the period cannot re-open it.
Accounts are processed one short transaction each, in a fixed order.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from enum import StrEnum
from functools import partial

from sqlalchemy import Connection, Engine, select

from ippproxy.accounting.ledger import Kind, find, lock_account, post
from ippproxy.accounting.models import ACCOUNTS, GROUPS, MEMBERS, USERS
from ippproxy.accounting.txn import in_transaction
from ippproxy.db.base import utcnow


class Period(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


def period_id(period: Period, when: dt.datetime) -> str:
    day = when.astimezone(dt.UTC).date()
    if period == Period.DAILY:
        return day.isoformat()
    if period == Period.WEEKLY:
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{day.year}-{day.month:02d}"


@dataclass(frozen=True)
class Allocation:
    group: str
    period: str
    account_id: uuid.UUID
    amount: int
    balance_after: int
    replayed: bool


@dataclass(frozen=True)
class _Target:
    group_id: uuid.UUID
    group: str
    period: Period
    amount: int
    cap: int | None
    account_id: uuid.UUID


def _targets(conn: Connection) -> list[_Target]:
    rows = conn.execute(
        select(GROUPS.c.id, GROUPS.c.name, GROUPS.c.quota_period, GROUPS.c.quota_amount,
               GROUPS.c.quota_cap, ACCOUNTS.c.id)
        .join(MEMBERS, MEMBERS.c.group_id == GROUPS.c.id)
        .join(USERS, USERS.c.id == MEMBERS.c.user_id)
        .join(ACCOUNTS, ACCOUNTS.c.owner_id == USERS.c.id)
        .where(GROUPS.c.quota_period != "", GROUPS.c.quota_amount > 0,
               USERS.c.deleted_at.is_(None))
        .order_by(GROUPS.c.name, ACCOUNTS.c.id))
    return [_Target(g, n, Period(p), a, c, acct) for g, n, p, a, c, acct in rows]


def _allocate(conn: Connection, t: _Target, when: dt.datetime, actor: str) -> Allocation:
    pid = period_id(t.period, when)
    key = f"quota:{t.group_id}:{pid}:{t.account_id}"
    balance: int = lock_account(conn, t.account_id)._mapping["balance"]
    existing = find(conn, key)
    if existing is not None:
        return Allocation(t.group, pid, t.account_id, existing.amount, existing.balance_after,
                          True)
    give = t.amount if t.cap is None else max(0, min(t.amount, t.cap - balance))
    reason = f"{t.period} allocation of group {t.group} for {pid}"
    if give < t.amount:
        reason += " (capped)"
    p = post(conn, t.account_id, give, kind=Kind.QUOTA, reason=reason, actor=actor, key=key,
             now=when)
    return Allocation(t.group, pid, t.account_id, p.amount, p.balance_after, False)


def apply_quotas(engine: Engine, now: dt.datetime | None = None,
                 actor: str = "quota") -> list[Allocation]:
    """Apply every due allocation for the period containing ``now``."""
    when = now or utcnow()
    return [in_transaction(engine, partial(_allocate, t=t, when=when, actor=actor))
            for t in in_transaction(engine, _targets)]
