"""A group's settings as an admin edits them: its price multiplier and what users created
into it start with; and whether the configuration file declares it (``provisioned``).

Connection-level, so that the groups service writes a change and its audit entry in one
transaction (``ippproxy.services.groups``). Amounts are integer minor units; the multiplier
a decimal string (``"0.5"``), as in ``[[group]]``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, delete, select, update

from ippproxy.accounting import users
from ippproxy.accounting.errors import InvalidOperation
from ippproxy.accounting.identity import canonical_name
from ippproxy.accounting.models import GROUPS, MEMBERS
from ippproxy.accounting.money import parse_money
from ippproxy.config import GroupConfig


@dataclass(frozen=True)
class GroupSettings:
    name: str                       # canonical
    multiplier: str = "1"
    initial_balance: int = 0
    initial_restricted: bool = True
    initial_credit_limit: int = 0
    provisioned: bool = False


def amount(minor: int, exponent: int) -> str:
    """Minor units as the decimal string of the file (``150`` -> ``"1.50"``)."""
    whole, frac = divmod(minor, 10 ** exponent)
    return f"{whole}.{frac:0{exponent}d}" if exponent else str(whole)


def to_config(g: GroupSettings, exponent: int) -> GroupConfig:
    """As a ``[[group]]`` table declares it."""
    return GroupConfig(name=g.name, multiplier=g.multiplier,
                       initial_balance=amount(g.initial_balance, exponent),
                       restricted=g.initial_restricted,
                       credit_limit=amount(g.initial_credit_limit, exponent))


def to_settings(g: GroupConfig, exponent: int, provisioned: bool = False) -> GroupSettings:
    """From a ``[[group]]`` table; ``ValueError`` for an amount finer than the currency."""
    return GroupSettings(canonical_name(g.name), g.multiplier,
                         parse_money(g.initial_balance, exponent),
                         g.restricted, parse_money(g.credit_limit, exponent), provisioned)


def _of(row: object) -> GroupSettings:
    g = row._mapping  # type: ignore[attr-defined]
    return GroupSettings(g["name"], g["multiplier"], g["initial_balance"],
                         g["initial_restricted"], g["initial_credit_limit"],
                         bool(g["provisioned"]))


def list_groups(conn: Connection) -> list[GroupSettings]:
    return [_of(r) for r in conn.execute(select(GROUPS).order_by(GROUPS.c.name))]


def get_group(conn: Connection, name: str) -> GroupSettings | None:
    row = conn.execute(select(GROUPS).where(GROUPS.c.name == canonical_name(name))).first()
    return None if row is None else _of(row)


def put_group(conn: Connection, g: GroupSettings) -> None:
    """Create the group or replace its settings (members and quota stay)."""
    values = {"multiplier": g.multiplier, "initial_balance": g.initial_balance,
              "initial_restricted": g.initial_restricted,
              "initial_credit_limit": g.initial_credit_limit, "provisioned": g.provisioned}
    if conn.execute(update(GROUPS).where(GROUPS.c.name == canonical_name(g.name))
                    .values(**values)).rowcount:
        return
    users.add_group(conn, g.name, **values)


@dataclass(frozen=True)
class GroupQuota:
    """The scheduled allocation of a group (quota.py): ``period`` "" (none), "daily",
    "weekly" or "monthly"; ``amount`` per period and ``cap`` in minor units."""

    period: str = ""
    amount: int = 0
    cap: int | None = None


def get_quota(conn: Connection, name: str) -> GroupQuota | None:
    row = conn.execute(select(GROUPS.c.quota_period, GROUPS.c.quota_amount,
                              GROUPS.c.quota_cap)
                       .where(GROUPS.c.name == canonical_name(name))).first()
    return None if row is None else GroupQuota(row[0], row[1], row[2])


def set_quota(conn: Connection, name: str, quota: GroupQuota) -> None:
    conn.execute(update(GROUPS).where(GROUPS.c.name == canonical_name(name)).values(
        quota_period=quota.period, quota_amount=quota.amount, quota_cap=quota.cap))


def delete_group(conn: Connection, name: str) -> None:
    """Remove the group and its memberships (the users and their accounts stay)."""
    gid = conn.execute(select(GROUPS.c.id).where(GROUPS.c.name == canonical_name(name))
                       ).scalar()
    if gid is None:
        raise InvalidOperation(f"unknown group {canonical_name(name)!r}")
    conn.execute(delete(MEMBERS).where(MEMBERS.c.group_id == gid))
    conn.execute(delete(GROUPS).where(GROUPS.c.id == gid))
