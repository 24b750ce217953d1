"""``ippproxy cmd list-users``: the admin's user list on the command line, with the same
selection and sort as the web page and ``GET /api/v1/users`` (SavaPage §4.4.1, Appendix C
listUsers): ``--search`` a fragment of the user id or an email, ``--group``, ``--type``,
``--role``, ``--status`` (``any`` is the either choice; the default lists every user not
deleted, alphabetically), ``--sort`` id or email, ``--desc``. Every selected user is read
a batch at a time (``userlist.batches``). The pagometer's figures are the job store's:
the web page and the REST API show them; here ``pagometer_since`` says where they start.
"""

from __future__ import annotations

import argparse
from typing import Any

from sqlalchemy import Engine

from ippproxy.accounting import userlist
from ippproxy.accounting.identity import canonical_name
from ippproxy.accounting.statement import iso_utc
from ippproxy.accounting.userlist import UserFilter

# The columns of the list, in the order the command has always printed them.
COLUMNS = ("id", "username", "internal", "full_name", "email", "card_number", "admin",
           "disabled", "deleted", "groups", "balance", "currency", "restricted",
           "credit_limit")


def add_arguments(sub: Any) -> None:
    s = sub.add_parser("list-users", help="the user list, selected and sorted")
    s.add_argument("--search", help="a fragment of the user id or an email")
    s.add_argument("--group", help="members of this group")
    s.add_argument("--type", choices=("internal", "external", "any"), default="any")
    s.add_argument("--role", choices=("admin", "user", "any"), default="any")
    s.add_argument("--status", choices=("live", "active", "disabled", "deleted", "any"),
                   default="live", help="live (default): every user not deleted")
    s.add_argument("--deleted", action="store_true", help="include deleted users "
                   "(the same as --status any)")
    s.add_argument("--sort", choices=("username", "email"), default="username")
    s.add_argument("--desc", action="store_true", help="descending")


def _either(value: str) -> Any:
    return None if value == "any" else value


def selection(a: argparse.Namespace) -> UserFilter:
    search = (a.search or "").strip()
    if len(search) > 255 or any(not c.isprintable() for c in search):
        raise ValueError("--search: at most 255 printable characters")
    group = (a.group or "").strip()
    if group:
        try:
            group = canonical_name(group)
        except ValueError as e:
            raise ValueError(f"--group: {e}") from None
    return UserFilter(search=search or None, group=group or None,
                      type=_either(a.type), role=_either(a.role),
                      status=None if a.deleted else _either(a.status))


def list_users(a: argparse.Namespace, engine: Engine) -> list[dict[str, Any]]:
    flt = selection(a)
    out = []
    with engine.connect() as conn:
        for batch in userlist.batches(conn, flt, a.sort, a.desc):
            out += [{**{k: row[k] for k in COLUMNS},
                     "pagometer_since": iso_utc(row["pagometer_since"])} for row in batch]
    return out
