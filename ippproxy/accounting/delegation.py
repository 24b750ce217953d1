"""Delegated print (SavaPage "Users", roles print-delegate and print-delegator): a user
with print-delegate may print on behalf of a user with print-delegator, charged to the
delegator's personal account. The delegate names the account as the code
``delegator:<name>`` (``job-account-id``, PWG 5100.7 §5.2.1, or the user side's account
choice); both roles are resolved at the charge, so a role taken away stops it at once.

``delegators`` lists the accounts a delegate is offered (at most ``MAX_DELEGATORS``, by
name): users whose own state enables print-delegator, members of groups that enable it,
and, when a built-in group enables it, live users of that kind, each resolved again."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, exists, select

from ippproxy.accounting.errors import AccessDenied, InvalidOperation, NotFound
from ippproxy.accounting.identity import canonical_name
from ippproxy.accounting.models import (
    ACCOUNTS,
    BUILTIN_ROLES,
    GROUP_ROLES,
    MEMBERS,
    USER_ROLES,
    USERS,
)
from ippproxy.accounting.role_checks import is_delegator, may_delegate
from ippproxy.accounting.roles import Role

PREFIX = "delegator:"
MAX_DELEGATORS = 200


def delegator_of(code: str | None) -> str | None:
    """The delegator's canonical name when ``code`` names one, else None."""
    if not code or not code.startswith(PREFIX):
        return None
    try:
        return canonical_name(code[len(PREFIX):])
    except ValueError:
        raise NotFound(f"no user in account code {code!r}") from None


def account_for(conn: Connection, delegate: str, delegator: str) -> Row[tuple[object, ...]]:
    """The delegator's personal account, after both roles were checked (AccessDenied)."""
    if canonical_name(delegate) == delegator:
        raise InvalidOperation("print on your own account without a delegator code")
    if not may_delegate(conn, delegate):
        raise AccessDenied("you may not print on behalf of others (role print-delegate)")
    if not is_delegator(conn, delegator):
        raise AccessDenied(f"{delegator!r} cannot be printed for (role print-delegator)")
    row = conn.execute(select(ACCOUNTS).join(USERS, USERS.c.id == ACCOUNTS.c.owner_id)
                       .where(USERS.c.username == delegator, USERS.c.deleted_at.is_(None),
                              ACCOUNTS.c.kind == "personal")).first()
    if row is None:
        raise NotFound(f"no account of {delegator!r}")
    return row


def delegators(conn: Connection, delegate: str) -> list[dict[str, Any]]:
    """The delegators' personal accounts a delegate is offered ([] for anyone else)."""
    if not may_delegate(conn, delegate):
        return []
    me = canonical_name(delegate)
    role = Role.PRINT_DELEGATOR.value
    own = select(USER_ROLES.c.user_id).where(USER_ROLES.c.role == role,
                                            USER_ROLES.c.enabled.is_(True))
    grouped = (select(MEMBERS.c.user_id)
               .join(GROUP_ROLES, GROUP_ROLES.c.group_id == MEMBERS.c.group_id)
               .where(GROUP_ROLES.c.role == role, GROUP_ROLES.c.enabled.is_(True)))
    builtin = exists().where(BUILTIN_ROLES.c.role == role, BUILTIN_ROLES.c.enabled.is_(True))
    found = conn.execute(
        select(USERS.c.username, USERS.c.full_name, ACCOUNTS)
        .join(ACCOUNTS, (ACCOUNTS.c.owner_id == USERS.c.id) & (ACCOUNTS.c.kind == "personal"))
        .where(USERS.c.deleted_at.is_(None), USERS.c.disabled.is_(False),
               USERS.c.username != me, ACCOUNTS.c.disabled.is_(False),
               USERS.c.id.in_(own) | USERS.c.id.in_(grouped) | builtin)
        .order_by(USERS.c.username).limit(MAX_DELEGATORS)).mappings().all()
    return [dict(m) for m in found if is_delegator(conn, m["username"])]
