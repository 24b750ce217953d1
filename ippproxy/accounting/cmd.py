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
import json
import sys
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Engine

from ippproxy.accounting import admin, cmdargs, jobref, ledger, statement, users
from ippproxy.accounting.cost import Pricing
from ippproxy.accounting.errors import AccountingError
from ippproxy.accounting.identity import canonical_name
from ippproxy.accounting.money import format_money, parse_money
from ippproxy.accounting.quota import apply_quotas
from ippproxy.accounting.service import AccountingService
from ippproxy.accounting.settings import AccountingSettings
from ippproxy.accounting.statement import iso_utc
from ippproxy.accounting.txn import in_transaction


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
        return _posting(tx(adjust), _names(a.user, a.account))
    if c == "set-credit-limit":
        def limit(conn: Connection) -> dict[str, Any]:
            acct = admin.account_of(conn, username=a.user, code=a.account)._mapping["id"]
            admin.set_credit_limit(conn, acct, m(a.amount), a.exponent)
            return {**_names(a.user, a.account), "credit_limit": m(a.amount)}
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
            restricted=not a.unrestricted, credit_limit=m(a.credit_limit), balance=m(a.balance),
            actor=a.actor))
        return {"id": str(aid), "code": a.code}
    if c == "grant-account":
        tx(lambda conn: users.grant_account(conn, a.code, user=a.user, group=a.group))
        return {"code": a.code, "granted": a.user or a.group}
    if c == "show-account":
        last = statement.parse_count(a.last, "--last", 0, statement.MAX_LIMIT)
        return tx(lambda conn: statement.show_account(conn, username=a.user, code=a.account,
                                                      last=last))
    if c == "list-transactions":
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
                                          since=since, until=until, before=before,
                                          limit=rows)
        return tx(listing)
    if c == "refund-job":
        amount = m(a.amount) if a.amount else None
        job = tx(lambda conn: jobref.resolve(conn, a.job, a.queue, a.job_id))
        svc = AccountingService(engine, Pricing(), AccountingSettings(a.currency, a.exponent))
        ch = svc.refund(job, amount, reason=a.reason, actor=a.actor, request_key=a.key)
        return {"job": str(ch.job_uuid), "charged": ch.charged, "refunded": ch.refunded,
                "balance": ch.balance, "replayed": ch.replayed}
    if c == "apply-quotas":
        now = statement.parse_time(a.now, "--now") if a.now else None
        return [{"group": x.group, "period": x.period, "account": str(x.account_id),
                 "amount": x.amount, "balance_after": x.balance_after, "replayed": x.replayed}
                for x in apply_quotas(engine, now, actor=a.actor)]
    raise AssertionError(c)  # pragma: no cover - argparse restricts the choices


_MONEY = ("amount", "balance", "balance_after", "credit_limit", "charged", "refunded",
          "available")


def _text(result: Any, a: argparse.Namespace, indent: str = "") -> str:
    """One line of ``key=value`` per row; a list inside a row (an account's last
    transactions) as indented lines under it."""
    rows = result if isinstance(result, list) else [result]
    lines = []
    for row in rows:
        parts, nested = [], []
        for k, v in row.items():
            if isinstance(v, list):
                nested.append(_text(v, a, indent + "  ") if v else f"{indent}  ({k}: none)")
                continue
            if k in _MONEY and isinstance(v, int) and not isinstance(v, bool):
                v = format_money(v, row.get("currency", a.currency), a.exponent)
            parts.append(f"{k}={v}")
        lines.append(indent + "  ".join(parts))
        lines.extend(nested)
    return "\n".join(lines)


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
