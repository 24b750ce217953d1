"""``ippproxy cmd``: the server command tool (SavaPage Appendix C, PaperCut server-command).

    ippproxy cmd --database URL [--json] <subcommand> ...

Amounts are decimal strings in the major unit (``12.50``) with at most ``--exponent``
decimals (``ippproxy cmd`` passes the configuration's ``accounting.currency`` and
``minor_unit_digits``: with 0 digits ``5`` is 5 units), stored as integer minor units;
the JSON output gives minor units. Accounts are named by user name or shared account
code, jobs by UUID, job URI or queue and job-id; times are ISO 8601 in UTC with the
offset. Ledger rows name the actor ``cmd:`` and the OS user running the tool. The
schema is brought up to date first (idempotent). Exit status: 0 done, 1 refused (one
line says why; ``{"error": ...}`` with ``--json``; nothing changed), 2 usage error.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Engine

from ippproxy.accounting import admin, cmdargs, cmdtext, cmdusers, jobref, ledger, statement, users
from ippproxy.accounting.cost import Pricing
from ippproxy.accounting.errors import AccountingError
from ippproxy.accounting.identity import canonical_name
from ippproxy.accounting.money import parse_money
from ippproxy.accounting.quota import apply_quotas
from ippproxy.accounting.service import AccountingService
from ippproxy.accounting.settings import AccountingSettings
from ippproxy.accounting.statement import iso_utc
from ippproxy.accounting.txn import in_transaction


def _ask_password() -> str:
    """Prompted twice without echo at a terminal; else one line of standard input."""
    if not sys.stdin.isatty():
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise ValueError("no password on standard input")
        return line
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise ValueError("the two passwords differ")
    if not first:
        raise ValueError("an empty password")
    return first


def _password(a: argparse.Namespace) -> str | None:
    """The new user's password: from --password-file; else asked for when a queue
    authenticates (``--password-used``, set by ``ippproxy cmd`` from the configuration
    and the catalog) or --ask-password is given; else none (nothing would ask for it)."""
    if a.password_file:
        return _secret(a.password_file)
    if a.password_used or a.ask_password:
        return _ask_password()
    return None


def _secret(path: str) -> str:
    if path == "-":
        return sys.stdin.readline().rstrip("\r\n")
    with open(path, encoding="utf-8") as f:
        return f.readline().rstrip("\r\n")


def _posting(p: ledger.Posting, names: dict[str, Any]) -> dict[str, Any]:
    return {"id": p.id, **names, "amount": p.amount,
            "balance_after": p.balance_after, "kind": p.kind, "reason": p.reason,
            "actor": p.actor, "job": str(p.job_uuid) if p.job_uuid else None,
            "key": p.idempotency_key, "created_at": iso_utc(p.created_at),
            "replayed": p.replayed}


def _names(username: str | None, code: str | None) -> dict[str, Any]:
    if code is not None:
        return {"account": code, "account_type": "shared"}
    return {"account": canonical_name(username or ""), "account_type": "user"}


Handler = Callable[[argparse.Namespace, Engine], Any]


def _money(a: argparse.Namespace) -> Callable[[str], int]:
    return lambda text: parse_money(text, a.exponent)


def _tx(engine: Engine, work: Callable[[Connection], Any]) -> Any:
    return in_transaction(engine, work)


def _add_internal_user(a: argparse.Namespace, engine: Engine) -> Any:
    """The name gets the configured prefix; the password the minimum length; without
    --balance / --credit-limit / --unrestricted the financial data are the new-user settings
    of the internal-users group, else balance 0 and an individual credit limit of 0
    (SavaPage manual §4.4.5)."""
    m = _money(a)
    name = canonical_name(a.username_prefix + a.username)
    password = _password(a)
    if password is not None and len(password) < a.password_length_min:
        raise ValueError(f"password: at least {a.password_length_min} characters")
    given = a.balance is not None or a.credit_limit is not None or a.unrestricted

    def work(conn: Connection) -> uuid.UUID:
        defaults = users.UserDefaults(a.currency, m(a.balance or "0"), not a.unrestricted,
                                      m(a.credit_limit or "0"))
        if not given:
            defaults = users.group_defaults(conn, "internal-users", a.currency) or defaults
        return users.add_user(
            conn, name, defaults=defaults, internal=True, password=password,
            full_name=a.full_name, email=a.email, card_number=a.card_number,
            groups=tuple(a.group), actor=a.actor)
    uid = _tx(engine, work)
    return {"id": str(uid), "username": name,
            "password": "set" if password else "none (no queue asks for one)"}


def _set_user_property(a: argparse.Namespace, engine: Engine) -> Any:
    _tx(engine, lambda conn: users.set_user_property(conn, a.username, a.property, a.value))
    return {"username": canonical_name(a.username), a.property: "set"}


def _delete_user(a: argparse.Namespace, engine: Engine) -> Any:
    return {"id": str(_tx(engine, lambda conn: users.delete_user(conn, a.username))),
            "deleted": True}


def _adjust_balance(a: argparse.Namespace, engine: Engine) -> Any:
    m = _money(a)

    def adjust(conn: Connection) -> ledger.Posting:
        acct = admin.account_of(conn, username=a.user, code=a.account)._mapping["id"]
        return admin.adjust_balance(conn, acct, m(a.amount), reason=a.reason,
                                    actor=a.actor, key=a.key,
                                    allow_overdraft=a.allow_overdraft,
                                    exponent=a.exponent)
    posting = _posting(_tx(engine, adjust), _names(a.user, a.account))
    return _tx(engine, lambda conn: jobref.name_jobs(conn, [posting]))[0]


def _set_credit_limit(a: argparse.Namespace, engine: Engine) -> Any:
    m = _money(a)

    def limit(conn: Connection) -> dict[str, Any]:
        acct = admin.account_of(conn, username=a.user, code=a.account)._mapping["id"]
        admin.set_credit_limit(conn, acct, m(a.amount), a.exponent)
        return {**_names(a.user, a.account), "credit_limit": m(a.amount)}
    return _tx(engine, limit)


def _list_users(a: argparse.Namespace, engine: Engine) -> Any:
    return cmdusers.list_users(a, engine)


def _add_group(a: argparse.Namespace, engine: Engine) -> Any:
    m = _money(a)
    gid = _tx(engine, lambda conn: users.add_group(
        conn, a.name, initial_balance=m(a.initial_balance),
        initial_restricted=not a.unrestricted, initial_credit_limit=0,
        quota_period=a.quota_period, quota_amount=m(a.quota_amount),
        quota_cap=m(a.quota_cap) if a.quota_cap else None))
    return {"id": str(gid), "name": canonical_name(a.name)}


def _add_member(a: argparse.Namespace, engine: Engine) -> Any:
    _tx(engine, lambda conn: users.add_member(conn, a.group, a.username))
    return {"group": canonical_name(a.group), "member": canonical_name(a.username)}


def _add_shared_account(a: argparse.Namespace, engine: Engine) -> Any:
    m = _money(a)
    pin = _secret(a.pin_file) if a.pin_file else None
    aid = _tx(engine, lambda conn: users.add_shared_account(
        conn, a.name, a.code, currency=a.currency, pin=pin, parent_code=a.parent,
        restricted=not a.unrestricted, credit_limit=m(a.credit_limit), balance=m(a.balance),
        actor=a.actor))
    return {"id": str(aid), "code": a.code}


def _grant_account(a: argparse.Namespace, engine: Engine) -> Any:
    _tx(engine, lambda conn: users.grant_account(conn, a.code, user=a.user, group=a.group))
    return {"code": a.code, "granted": a.user or a.group}


def _show_account(a: argparse.Namespace, engine: Engine) -> Any:
    last = statement.parse_count(a.last, "--last", 0, statement.MAX_LIMIT)
    return _tx(engine, lambda conn: statement.show_account(conn, username=a.user,
                                                           code=a.account, last=last))


def _list_transactions(a: argparse.Namespace, engine: Engine) -> Any:
    rows = statement.parse_count(a.limit, "--limit", 1, statement.MAX_LIMIT)
    before = (statement.parse_count(a.before, "--before", 1, 2**63 - 1)
              if a.before is not None else None)
    since = statement.parse_time(a.since, "--since") if a.since else None
    until = statement.parse_time(a.until, "--until") if a.until else None
    job = _uuid(a.job) if a.job else None

    def listing(conn: Connection) -> list[dict[str, Any]]:
        acct = None
        if a.user or a.account:
            acct = admin.account_of(conn, username=a.user, code=a.account)._mapping["id"]
        return statement.transactions(conn, account_id=acct, job_uuid=job, kinds=a.kind,
                                      since=since, until=until, before=before, limit=rows)
    return _tx(engine, listing)


def _refund_job(a: argparse.Namespace, engine: Engine) -> Any:
    amount = _money(a)(a.amount) if a.amount else None
    job = _tx(engine, lambda conn: jobref.resolve(conn, a.job, a.queue, a.job_id))
    svc = AccountingService(engine, Pricing(), AccountingSettings(a.currency, a.exponent))
    ch = svc.refund(job, amount, reason=a.reason, actor=a.actor, request_key=a.key)
    out = {"job": str(ch.job_uuid), "charged": ch.charged, "refunded": ch.refunded,
           "balance": ch.balance, "replayed": ch.replayed}
    return _tx(engine, lambda conn: jobref.name_jobs(conn, [out]))[0]


def _apply_quotas(a: argparse.Namespace, engine: Engine) -> Any:
    now = statement.parse_time(a.now, "--now") if a.now else None
    return [{"group": x.group, "period": x.period, "account": str(x.account_id),
             "amount": x.amount, "balance_after": x.balance_after, "replayed": x.replayed}
            for x in apply_quotas(engine, now, actor=a.actor)]


# The subcommands, by name (their arguments: cmdargs.py): a new one is a handler here
# and a parser there.
HANDLERS: dict[str, Handler] = {
    "add-internal-user": _add_internal_user, "set-user-property": _set_user_property,
    "delete-user": _delete_user, "adjust-balance": _adjust_balance,
    "set-credit-limit": _set_credit_limit, "list-users": _list_users,
    "add-group": _add_group, "add-member": _add_member,
    "add-shared-account": _add_shared_account, "grant-account": _grant_account,
    "show-account": _show_account, "list-transactions": _list_transactions,
    "refund-job": _refund_job, "apply-quotas": _apply_quotas,
}


def _uuid(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text.strip())
    except ValueError:
        raise ValueError(f"not a job UUID: {text!r}") from None


def main(argv: list[str]) -> int:
    parser = cmdargs.parser(__doc__)
    try:
        a = parser.parse_args(argv)
    except SystemExit as e:
        return int(e.code or 0)
    from ippproxy.db import make_engine, upgrade
    engine = make_engine(a.database)
    try:
        upgrade(engine)
        result = HANDLERS[a.command](a, engine)
    except (AccountingError, ValueError, OSError) as e:
        msg = str(e) or type(e).__name__
        if a.json:
            print(json.dumps({"error": msg}))
        else:
            print(f"ippproxy cmd: {msg}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    print(json.dumps(result, indent=2) if a.json
          else cmdtext.render(result, a.currency, a.exponent))
    return 0
