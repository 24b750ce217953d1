"""The command line of ``ippproxy cmd``'s accounting subcommands (cmd.py runs them).

Values an operator may get wrong (amounts, counts, times, job-ids) are read as strings
here and checked by the subcommand, so that a wrong one exits 1 with a one-line reason
(a ``--json`` error object) rather than argparse's usage message.
"""

from __future__ import annotations

import argparse

from ippproxy.accounting import cmdusers, users
from ippproxy.accounting.identity import os_user
from ippproxy.accounting.ledger import Kind

EXAMPLES = """\
examples (the database, currency and minor unit come from --config FILE):
  add a user             ippproxy cmd --config ippproxy.toml add-internal-user jane --balance 5.00
  top up                 ippproxy cmd --config ippproxy.toml adjust-balance --user jane 10.00 --reason "top-up"
  a user's account       ippproxy cmd --config ippproxy.toml show-account --user jane
  a user's transactions  ippproxy cmd --config ippproxy.toml list-transactions --user jane --limit 20
  refund a job           ippproxy cmd --config ippproxy.toml refund-job --queue office --job-id 12 --reason "jammed"
  every user, for a script  ippproxy cmd --config ippproxy.toml --json list-users
  users like "son", by email  ippproxy cmd --config ippproxy.toml list-users --search son --sort email
"""


def parser(description: str | None) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ippproxy cmd", description=description,
                                epilog=EXAMPLES,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--database", required=True, help="SQLAlchemy URL")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--currency", default="EUR",
                   help="currency of new accounts (ippproxy cmd: the configuration's)")
    p.add_argument("--exponent", type=int, default=2,
                   help="digits of the minor unit (ippproxy cmd: the configuration's "
                        "accounting.minor_unit_digits)")
    p.add_argument("--actor", default=f"cmd:{os_user()}",
                   help="who the ledger rows name (default: cmd: and the OS user)")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("add-internal-user")
    s.add_argument("username")
    s.add_argument("--password-file",
                   help="file holding the password ('-' for stdin); never on the command "
                        "line. Without it the password is asked for (at a terminal; else "
                        "read from stdin) when a queue authenticates, else none is set")
    s.add_argument("--ask-password", action="store_true",
                   help="ask for a password even though no queue authenticates")
    s.add_argument("--password-used", action="store_true", help=argparse.SUPPRESS)
    s.add_argument("--full-name", default="")
    s.add_argument("--email")
    s.add_argument("--card-number")
    s.add_argument("--group", action="append", default=[])
    s.add_argument("--balance", default=None,
                   help="default: the internal-users group's new-user settings, else 0")
    s.add_argument("--unrestricted", action="store_true")
    s.add_argument("--credit-limit", default=None)
    # From the configuration's [users] (ippproxy cmd passes them): SavaPage's
    # internal-users.username-prefix and internal-users.password-length-min.
    s.add_argument("--username-prefix", default="", help=argparse.SUPPRESS)
    s.add_argument("--password-length-min", type=int, default=0, help=argparse.SUPPRESS)

    s = sub.add_parser("set-user-property")
    s.add_argument("username")
    s.add_argument("property", choices=users.USER_PROPERTIES)
    s.add_argument("value")

    s = sub.add_parser("delete-user")
    s.add_argument("username")

    for name in ("adjust-balance", "set-credit-limit"):
        s = sub.add_parser(name)
        _account(s, required=True)
        s.add_argument("amount")
        if name == "adjust-balance":
            s.add_argument("--reason", required=True)
            s.add_argument("--key", help="idempotency key: a retried command applies once")
            s.add_argument("--allow-overdraft", action="store_true",
                           help="allow a debit below a restricted account's credit limit "
                                "(the ledger row's reason records it)")

    s = sub.add_parser("show-account", help="one account's balance, credit limit, "
                       "restriction and last transactions")
    _account(s, required=True)
    s.add_argument("--last", default="10", help="how many transactions (default 10)")

    cmdusers.add_arguments(sub)

    s = sub.add_parser("add-group")
    s.add_argument("name")
    s.add_argument("--initial-balance", default="0")
    s.add_argument("--unrestricted", action="store_true")
    s.add_argument("--quota-period", choices=["", "daily", "weekly", "monthly"], default="")
    s.add_argument("--quota-amount", default="0")
    s.add_argument("--quota-cap")

    s = sub.add_parser("add-member")
    s.add_argument("group")
    s.add_argument("username")

    s = sub.add_parser("add-shared-account",
                       help="restricted by default, like users (--unrestricted: no floor)")
    s.add_argument("name")
    s.add_argument("code")
    s.add_argument("--pin-file", help="file holding the PIN ('-' for stdin)")
    s.add_argument("--parent")
    restriction = s.add_mutually_exclusive_group()
    restriction.add_argument("--restricted", dest="unrestricted", action="store_false",
                             default=False,
                             help="the default")
    restriction.add_argument("--unrestricted", action="store_true")
    s.add_argument("--credit-limit", default="0")
    s.add_argument("--balance", default="0")

    s = sub.add_parser("grant-account")
    s.add_argument("code")
    who = s.add_mutually_exclusive_group(required=True)
    who.add_argument("--user")
    who.add_argument("--group")

    s = sub.add_parser("list-transactions", help="newest first; the next page: --before "
                       "the id of the last row shown")
    _account(s, required=False)
    s.add_argument("--job", help="job UUID")
    s.add_argument("--kind", action="append", default=[],
                   help=f"only this kind (repeatable): {', '.join(str(k) for k in Kind)}")
    s.add_argument("--since", help="ISO 8601 date or time, inclusive (no offset: UTC)")
    s.add_argument("--until", help="ISO 8601 date or time, exclusive (no offset: UTC)")
    s.add_argument("--before", help="only rows with a smaller id (the paging cursor)")
    s.add_argument("--limit", default="100", help="rows per page (default 100)")

    s = sub.add_parser("refund-job", help="JOB is the job's UUID or job URI; or give "
                       "--queue and --job-id")
    s.add_argument("job", nargs="?")
    s.add_argument("--queue")
    s.add_argument("--job-id")
    s.add_argument("--amount", help="default: everything still charged")
    s.add_argument("--reason", required=True)
    s.add_argument("--key", help="idempotency key: a retried command applies once")

    s = sub.add_parser("apply-quotas")
    s.add_argument("--now", help="ISO 8601 time (default: now, UTC)")
    return p


def _account(s: argparse.ArgumentParser, *, required: bool) -> None:
    who = s.add_mutually_exclusive_group(required=required)
    who.add_argument("--user", help="a user's personal account")
    who.add_argument("--account", help="shared account code")
