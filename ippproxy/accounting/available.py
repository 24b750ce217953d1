"""The accounts a user may charge, as the user's own side shows them (issue 17): their
personal account, and every shared account granted to them or to one of their groups,
with its sub-accounts (a grant covers them, ``users.check_access``), and for a
print-delegate the delegators' personal accounts (``delegation``). Disabled accounts
are left out. Connection-level; names only what a user may see of their own accounts
(no owner, no PIN).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, or_, select

from ippproxy.accounting.delegation import PREFIX, delegators
from ippproxy.accounting.models import ACCESS, ACCOUNTS, MEMBERS
from ippproxy.accounting.users import find_user

MAX_DEPTH = 32   # sub-account levels followed (bounded against cycles)


@dataclass(frozen=True)
class UsableAccount:
    code: str | None          # None: the user's personal account
    name: str
    balance: int              # minor units
    currency: str
    restricted: bool
    credit_limit: int
    pin: bool                 # charging it needs the account's PIN


def usable_accounts(conn: Connection, username: str) -> list[UsableAccount]:
    """The personal account first, then the shared ones by name; [] for no such user."""
    user = find_user(conn, username)
    if user is None:
        return []
    user_id = user._mapping["id"]
    personal = conn.execute(select(ACCOUNTS).where(
        ACCOUNTS.c.owner_id == user_id, ACCOUNTS.c.kind == "personal")).mappings().first()
    groups = select(MEMBERS.c.group_id).where(MEMBERS.c.user_id == user_id)
    granted = {r[0] for r in conn.execute(select(ACCESS.c.account_id).where(
        or_(ACCESS.c.user_id == user_id, ACCESS.c.group_id.in_(groups))))}
    found: set[uuid.UUID] = set(granted)
    frontier = set(granted)
    for _ in range(MAX_DEPTH):
        if not frontier:
            break
        children = {r[0] for r in conn.execute(select(ACCOUNTS.c.id).where(
            ACCOUNTS.c.parent_id.in_(frontier)))} - found
        found |= children
        frontier = children
    shared = conn.execute(select(ACCOUNTS).where(
        ACCOUNTS.c.id.in_(found), ACCOUNTS.c.kind == "shared",
        ACCOUNTS.c.disabled.is_(False)).order_by(ACCOUNTS.c.name, ACCOUNTS.c.code)
    ).mappings().all() if found else []
    out = [] if personal is None or personal["disabled"] else [_usable(personal, None)]
    # Delegated print: the delegators' personal accounts, for a print-delegate.
    behalf = [UsableAccount(f"{PREFIX}{m['username']}",
                            f"{m['full_name'] or m['username']} (on behalf of)", m["balance"],
                            m["currency"], m["restricted"], m["credit_limit"], False)
              for m in delegators(conn, username)]
    return out + [_usable(m, m["code"]) for m in shared] + behalf


def _usable(r: Mapping[Any, Any], code: str | None) -> UsableAccount:
    return UsableAccount(code, r["name"] or ("personal" if code is None else code),
                         r["balance"], r["currency"], r["restricted"], r["credit_limit"],
                         bool(r["pin_hash"]))
