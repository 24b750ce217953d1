"""``ippproxy cmd``: the server command tool (SavaPage Appendix C, PaperCut server-command).

    ippproxy cmd --database URL [--json] <subcommand> ...

Amounts are decimal strings in the major unit (``12.50``), stored as integer
minor units. The schema is brought up to date first (idempotent). Exit status:
0 done, 1 refused (the message says why), 2 usage error.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Engine

from ippproxy.accounting import admin, ledger, users
from ippproxy.accounting.cost import Pricing
from ippproxy.accounting.errors import AccountingError
from ippproxy.accounting.identity import canonical_name
from ippproxy.accounting.money import format_money, parse_money
from ippproxy.accounting.quota import apply_quotas
from ippproxy.accounting.service import AccountingService
from ippproxy.accounting.settings import AccountingSettings
from ippproxy.accounting.txn import in_transaction


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ippproxy cmd", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--database", required=True, help="SQLAlchemy URL")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--currency", default="EUR")
    p.add_argument("--exponent", type=int, default=2, help="digits of the minor unit")
    p.add_argument("--actor", default=f"cmd:{os.environ.get('USER', 'unknown')}")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("add-internal-user")
    s.add_argument("username")
    s.add_argument("--password-file", required=True,
                   help="file holding the password ('-' for stdin); never on the command line")
    s.add_argument("--full-name", default="")
    s.add_argument("--email")
    s.add_argument("--card-number")
    s.add_argument("--group", action="append", default=[])
    s.add_argument("--balance", default="0")
    s.add_argument("--unrestricted", action="store_true")
    s.add_argument("--credit-limit", default="0")

    s = sub.add_parser("set-user-property")
    s.add_argument("username")
    s.add_argument("property", choices=users.USER_PROPERTIES)
    s.add_argument("value")

    s = sub.add_parser("delete-user")
    s.add_argument("username")

    for name in ("adjust-balance", "set-credit-limit"):
        s = sub.add_parser(name)
        who = s.add_mutually_exclusive_group(required=True)
        who.add_argument("--user")
        who.add_argument("--account", help="shared account code")
        s.add_argument("amount")
        if name == "adjust-balance":
            s.add_argument("--reason", required=True)
            s.add_argument("--key", help="idempotency key: a retried command applies once")
            s.add_argument("--allow-overdraft", action="store_true",
                           help="allow a debit below a restricted account's credit limit "
                                "(the ledger row's reason records it)")

    s = sub.add_parser("list-users")
    s.add_argument("--deleted", action="store_true", help="include deleted users")

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

    s = sub.add_parser("add-shared-account")
    s.add_argument("name")
    s.add_argument("code")
    s.add_argument("--pin-file", help="file holding the PIN ('-' for stdin)")
    s.add_argument("--parent")
    s.add_argument("--restricted", action="store_true")
    s.add_argument("--credit-limit", default="0")
    s.add_argument("--balance", default="0")

    s = sub.add_parser("grant-account")
    s.add_argument("code")
    who = s.add_mutually_exclusive_group(required=True)
    who.add_argument("--user")
    who.add_argument("--group")

    s = sub.add_parser("list-transactions")
    which = s.add_mutually_exclusive_group()
    which.add_argument("--user")
    which.add_argument("--account")
    which.add_argument("--job")
    s.add_argument("--limit", type=int, default=100)

    s = sub.add_parser("refund-job")
    s.add_argument("job_uuid")
    s.add_argument("--amount", help="default: everything still charged")
    s.add_argument("--reason", required=True)
    s.add_argument("--key", help="idempotency key: a retried command applies once")

    s = sub.add_parser("apply-quotas")
    s.add_argument("--now", help="ISO 8601 time (default: now, UTC)")
    return p


def _secret(path: str) -> str:
    if path == "-":
        return sys.stdin.readline().rstrip("\r\n")
    with open(path, encoding="utf-8") as f:
        return f.readline().rstrip("\r\n")


def _posting(p: ledger.Posting) -> dict[str, Any]:
    return {"id": p.id, "account": str(p.account_id), "amount": p.amount,
            "balance_after": p.balance_after, "kind": p.kind, "reason": p.reason,
            "actor": p.actor, "job": str(p.job_uuid) if p.job_uuid else None,
            "key": p.idempotency_key, "created_at": p.created_at.isoformat(),
            "replayed": p.replayed}


def _run(a: argparse.Namespace, engine: Engine) -> Any:
    c = a.command

    def m(text: str) -> int:
        return parse_money(text, a.exponent)

    def tx(work: Callable[[Connection], Any]) -> Any:
        return in_transaction(engine, work)

    if c == "add-internal-user":
        defaults = users.UserDefaults(a.currency, m(a.balance), not a.unrestricted,
                                      m(a.credit_limit))
        password = _secret(a.password_file)
        uid = tx(lambda conn: users.add_user(
            conn, a.username, defaults=defaults, internal=True, password=password,
            full_name=a.full_name, email=a.email, card_number=a.card_number,
            groups=tuple(a.group), actor=a.actor))
        return {"id": str(uid), "username": canonical_name(a.username)}
    if c == "set-user-property":
        tx(lambda conn: users.set_user_property(conn, a.username, a.property, a.value))
        return {"username": canonical_name(a.username), a.property: "set"}
    if c == "delete-user":
        return {"id": str(tx(lambda conn: users.delete_user(conn, a.username))),
                "deleted": True}
    if c == "adjust-balance":
        def adjust(conn: Connection) -> ledger.Posting:
            acct = admin.account_of(conn, username=a.user, code=a.account)._mapping["id"]
            return admin.adjust_balance(conn, acct, m(a.amount), reason=a.reason,
                                        actor=a.actor, key=a.key,
                                        allow_overdraft=a.allow_overdraft,
                                        exponent=a.exponent)
        return _posting(tx(adjust))
    if c == "set-credit-limit":
        def limit(conn: Connection) -> dict[str, Any]:
            acct = admin.account_of(conn, username=a.user, code=a.account)._mapping["id"]
            admin.set_credit_limit(conn, acct, m(a.amount), a.exponent)
            return {"account": str(acct), "credit_limit": m(a.amount)}
        return tx(limit)
    if c == "list-users":
        return tx(lambda conn: admin.list_users(conn, include_deleted=a.deleted))
    if c == "add-group":
        gid = tx(lambda conn: users.add_group(
            conn, a.name, initial_balance=m(a.initial_balance),
            initial_restricted=not a.unrestricted, initial_credit_limit=0,
            quota_period=a.quota_period, quota_amount=m(a.quota_amount),
            quota_cap=m(a.quota_cap) if a.quota_cap else None))
        return {"id": str(gid), "name": canonical_name(a.name)}
    if c == "add-member":
        tx(lambda conn: users.add_member(conn, a.group, a.username))
        return {"group": canonical_name(a.group),
                "member": canonical_name(a.username)}
    if c == "add-shared-account":
        pin = _secret(a.pin_file) if a.pin_file else None
        aid = tx(lambda conn: users.add_shared_account(
            conn, a.name, a.code, currency=a.currency, pin=pin, parent_code=a.parent,
            restricted=a.restricted, credit_limit=m(a.credit_limit), balance=m(a.balance),
            actor=a.actor))
        return {"id": str(aid), "code": a.code}
    if c == "grant-account":
        tx(lambda conn: users.grant_account(conn, a.code, user=a.user, group=a.group))
        return {"code": a.code, "granted": a.user or a.group}
    if c == "list-transactions":
        def listing(conn: Connection) -> list[dict[str, Any]]:
            acct = None
            if a.user or a.account:
                acct = admin.account_of(conn, username=a.user, code=a.account)._mapping["id"]
            job = uuid.UUID(a.job) if a.job else None
            return [_posting(p) for p in ledger.entries(conn, account_id=acct, job_uuid=job,
                                                        limit=a.limit)]
        return tx(listing)
    if c == "refund-job":
        svc = AccountingService(engine, Pricing(), AccountingSettings(a.currency, a.exponent))
        ch = svc.refund(a.job_uuid, m(a.amount) if a.amount else None, reason=a.reason,
                        actor=a.actor, request_key=a.key)
        return {"job": str(ch.job_uuid), "charged": ch.charged, "refunded": ch.refunded,
                "balance": ch.balance, "replayed": ch.replayed}
    if c == "apply-quotas":
        now = dt.datetime.fromisoformat(a.now) if a.now else None
        if now is not None and now.tzinfo is None:
            now = now.replace(tzinfo=dt.UTC)
        return [{"group": x.group, "period": x.period, "account": str(x.account_id),
                 "amount": x.amount, "balance_after": x.balance_after, "replayed": x.replayed}
                for x in apply_quotas(engine, now, actor=a.actor)]
    raise AssertionError(c)  # pragma: no cover - argparse restricts the choices


def _text(result: Any, a: argparse.Namespace) -> str:
    money = ("amount", "balance", "balance_after", "credit_limit", "charged", "refunded")
    rows = result if isinstance(result, list) else [result]
    lines = []
    for row in rows:
        parts = []
        for k, v in row.items():
            if k in money and isinstance(v, int):
                v = format_money(v, row.get("currency", a.currency), a.exponent)
            parts.append(f"{k}={v}")
        lines.append("  ".join(parts))
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = _parser()
    try:
        a = parser.parse_args(argv)
    except SystemExit as e:
        return int(e.code or 0)
    from ippproxy.db import make_engine, upgrade
    engine = make_engine(a.database)
    try:
        upgrade(engine)
        result = _run(a, engine)
    except (AccountingError, ValueError, OSError) as e:
        msg = str(e) or type(e).__name__
        if a.json:
            print(json.dumps({"error": msg}))
        else:
            print(f"ippproxy cmd: {msg}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    print(json.dumps(result, indent=2) if a.json else _text(result, a))
    return 0
