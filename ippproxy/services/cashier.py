"""The web cashier (SavaPage "Point-of-Sale"; issue 18): a user with the ``web-cashier``
role, not necessarily an admin, finds a user by id, name, card or ID number and deposits
an amount into the user's personal account.

Every deposit is one ledger row (``accounting.admin.adjust_balance``) with the cashier as
actor and a reason, keyed by the form's one-time token, so a form sent twice (a double
click, a reload) deposits once and shows the same receipt. The amount is what the
cashier typed, parsed exactly (``accounting.money.parse_money``: ASCII digits, at most
the currency's decimals); it must be positive. Each deposit is audited.
Blocking (database): the web layer calls these in a thread."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine

from ippproxy.accounting import admin as accounting_admin
from ippproxy.accounting import ledger, lookup, role_checks
from ippproxy.accounting.errors import AccountingError
from ippproxy.accounting.identity import canonical_name
from ippproxy.accounting.money import format_money, parse_money
from ippproxy.accounting.roles import Role
from ippproxy.accounting.txn import in_transaction
from ippproxy.services.actor import Actor
from ippproxy.services.auditsink import AuditSink, entry
from ippproxy.services.errors import Forbidden, Invalid, NotFound

TOKEN_BYTES = 18
MAX_REASON = 200


@dataclass(frozen=True)
class Receipt:
    number: int  # the ledger row's id
    token: str
    username: str
    full_name: str
    amount: str  # formatted: "12.50 EUR"
    balance_after: str
    reason: str
    cashier: str
    at: dt.datetime


def new_token() -> str:
    """The one-time token of a deposit form (``secrets``)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def _key(cashier: str, token: str) -> str:
    return f"cashier:{cashier}:{token}"


class Cashier:
    def __init__(self, engine: Engine, audit: AuditSink, exponent: int = 2) -> None:
        self.engine = engine
        self.audit = audit
        self.exponent = exponent

    def may_use(self, actor: Actor) -> bool:
        """The actor is a live, enabled user whose web-cashier role resolves granted."""
        with self.engine.connect() as conn:
            return role_checks.has_role(conn, actor.name, Role.WEB_CASHIER)

    def _require(self, actor: Actor) -> None:
        if not self.may_use(actor):
            raise Forbidden("the cashier page is for users with the web-cashier role")

    def find(self, actor: Actor, text: str) -> list[dict[str, Any]]:
        self._require(actor)
        if len(text) > 255:
            raise Invalid("q", "at most 255 characters")
        with self.engine.connect() as conn:
            found = lookup.find_users(conn, text)
        return [{"username": m["username"], "full_name": m["full_name"],
                 "disabled": m["disabled"],
                 "balance": format_money(m["balance"], m["currency"], self.exponent)}
                for m in found]

    def user(self, actor: Actor, username: str) -> dict[str, Any]:
        self._require(actor)
        m = self._user(username)
        return {"username": m["username"], "full_name": m["full_name"],
                "balance": format_money(m["balance"], m["currency"], self.exponent),
                "currency": m["currency"]}

    def _user(self, username: str) -> dict[str, Any]:
        try:
            canonical_name(username)
        except ValueError as e:
            raise Invalid("user", str(e)) from None
        with self.engine.connect() as conn:
            m = lookup.find_user(conn, username)
        if m is None:
            raise NotFound("user", username)
        return m

    def parse_amount(self, text: str) -> int:
        try:
            amount = parse_money(text, self.exponent)
        except ValueError:
            raise Invalid("amount", f"an amount in digits with at most {self.exponent} "
                                    "decimals, like 10.50") from None
        if amount <= 0:
            raise Invalid("amount", "a deposit is more than zero")
        return amount

    def deposit(self, actor: Actor, username: str, amount_text: str, note: str,
                token: str) -> Receipt:
        """Deposit once per ``token``: the same token again returns the first receipt."""
        self._require(actor)
        if not (16 <= len(token) <= 64 and token.replace("-", "").replace("_", "").isalnum()):
            raise Invalid("token", "the form's token is missing; reload the page")
        amount = self.parse_amount(amount_text)
        note = note.strip()
        if len(note) > MAX_REASON or any(ord(c) < 32 for c in note):
            raise Invalid("note", f"at most {MAX_REASON} characters, on one line")
        m = self._user(username)
        reason = f"deposit at the web cashier{': ' + note if note else ''}"

        def work(conn: Connection) -> ledger.Posting:
            return accounting_admin.adjust_balance(
                conn, m["account_id"], amount, reason=reason, actor=actor.name,
                key=_key(actor.name, token), exponent=self.exponent)
        try:
            posting = in_transaction(self.engine, work)
        except AccountingError as e:
            raise Invalid("amount", str(e)) from None
        if not posting.replayed:
            self.audit.record(entry(actor, "account.deposit", f"account:{m['account_id']}",
                                    {"balance": m["balance"]},
                                    {"balance": posting.balance_after, "amount": amount,
                                     "user": m["username"], "reason": reason}))
        return self._receipt(posting, m, token)

    def receipt(self, actor: Actor, token: str) -> Receipt:
        """A receipt again (reprint), only the cashier's own."""
        self._require(actor)
        with self.engine.connect() as conn:
            posting = ledger.find(conn, f"adjust:{_key(actor.name, token)}")
            if posting is None:
                raise NotFound("receipt", token[:16])
            owner = lookup.owner_name(conn, posting.account_id)
        if owner is None:
            raise NotFound("receipt", token[:16])
        m = self._user(owner)
        return self._receipt(posting, m, token)

    def _receipt(self, p: ledger.Posting, m: dict[str, Any], token: str) -> Receipt:
        def money(v: int) -> str:
            return format_money(v, m["currency"], self.exponent)
        return Receipt(p.id, token, m["username"], m["full_name"], money(p.amount),
                       money(p.balance_after), p.reason, p.actor, p.created_at)
