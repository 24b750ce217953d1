"""Editing one user (SavaPage manual, "Users", §4.4.4; issue 18): identity, e-mail, card
and ID number, PIN, UUID token, financial data, the internal password; every change
audited with before and after (secrets as "set" / "erased", never their value).

The admin page, ``/api/v1/users/{name}`` and ``ippproxy cmd set-user-property`` call this.
A deleted user cannot be edited (``Conflict``); a value another live user holds is refused
naming the field, and the other owner only to actors who may read users. Fields that the
next directory sync will overwrite (``ldap.overwrite``, for users the sync created) are
listed in ``sync_overwrites``. Blocking (database): the web layer calls it in a thread.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine

from ippproxy.accounting import useredit, userfields, users
from ippproxy.accounting.errors import AccountingError
from ippproxy.accounting.errors import NotFound as AcctNotFound
from ippproxy.accounting.identity import canonical_name
from ippproxy.accounting.ledger import Posting
from ippproxy.accounting.money import parse_money
from ippproxy.accounting.txn import in_transaction
from ippproxy.accounting.useredit import CreditSource, Duplicate
from ippproxy.accounting.userfields import ByteOrder, CardFormat, FieldError, Lengths
from ippproxy.config import UsersConfig
from ippproxy.services.actor import Access, Actor, Section
from ippproxy.services.auditsink import AuditSink, entry
from ippproxy.services.errors import Conflict, Forbidden, Invalid, NotFound

T = TypeVar("T")
MAX_BALANCE = 10**12


@dataclass(frozen=True)
class UserChanges:
    """What an edit changes; ``None`` leaves a field as it is. ``pin`` / ``password``
    "" removes (erases) it. ``emails`` is the entered text (primary first)."""

    full_name: str | None = None
    admin: bool | None = None
    person: bool | None = None
    disabled: bool | None = None
    emails: str | None = None
    card_number: str | None = None
    card_format: str = CardFormat.HEX.value
    card_order: str = ByteOrder.LSB.value
    id_number: str | None = None
    pin: str | None = None
    password: str | None = None
    credit_source: str | None = None
    credit_limit: int | None = None


# The editable properties of ``set-user-property`` and their UserChanges field.
PROPERTIES = {"full-name": "full_name", "admin": "admin", "person": "person",
              "disabled": "disabled", "email": "emails", "card-number": "card_number",
              "id-number": "id_number", "pin": "pin", "password": "password",
              "credit-limit-source": "credit_source", "credit-limit": "credit_limit"}


def lengths(c: UsersConfig) -> Lengths:
    return Lengths(pin_min=c.pin_length_min, pin_max=c.pin_length_max,
                   id_number_min=c.id_number_length_min, password_min=c.password_length_min)


def _require(actor: Actor, access: Access) -> None:
    if not actor.may(Section.USERS, access):
        raise Forbidden(f"{access.name.lower()} access to users is needed")


def _utc(t: dt.datetime | None) -> str | None:
    """RFC 3339 with the offset (SQLite gives stored times back without it: UTC)."""
    if t is None:
        return None
    return (t if t.tzinfo else t.replace(tzinfo=dt.UTC)).isoformat()


def _require_finance(actor: Actor) -> None:
    if not actor.may(Section.FINANCE, Access.WRITE):
        raise Forbidden("write access to finance is needed")


def _bool(prop: str, value: str) -> bool:
    if value.lower() not in ("true", "false"):
        raise Invalid(prop, "true or false")
    return value.lower() == "true"


def changes_from_property(prop: str, value: str, *, card_format: str = "hex",
                          card_order: str = "lsb") -> UserChanges:
    """``set-user-property NAME PROPERTY VALUE`` as a change."""
    if prop not in PROPERTIES:
        raise Invalid("property", f"one of {', '.join(PROPERTIES)}")
    field = PROPERTIES[prop]
    typed: Any = value
    if field in ("admin", "person", "disabled"):
        typed = _bool(prop, value)
    elif field == "credit_limit":
        if not value.isascii() or not value.isdigit():
            raise Invalid(prop, "a whole number of minor units, zero or more")
        typed = int(value)
    return dataclasses.replace(UserChanges(card_format=card_format, card_order=card_order),
                               **{field: typed})


class UserEdit:
    def __init__(self, engine: Engine, audit: AuditSink, config: Callable[[], UsersConfig],
                 sync_overwrites: Callable[[], tuple[str, ...]] = lambda: (),
                 exponent: Callable[[], int] = lambda: 2) -> None:
        self.engine = engine
        self.audit = audit
        self.config = config
        self.sync_overwrites = sync_overwrites
        self.exponent = exponent  # the currency's decimals (accounting.minor_unit_digits)

    def amount(self, field: str, text: str) -> int:
        """A decimal amount as typed on a page ("12.50") in minor units, or Invalid."""
        try:
            return parse_money(text, self.exponent())
        except ValueError as e:
            raise Invalid(field, str(e)) from None

    def shown(self, minor: int) -> str:
        """Minor units as the decimal a page shows (``150`` -> ``"1.50"``)."""
        exponent = self.exponent()
        sign = "-" if minor < 0 else ""
        whole, frac = divmod(abs(minor), 10 ** exponent)
        return f"{sign}{whole}.{frac:0{exponent}d}" if exponent else f"{sign}{whole}"

    # -- reading ----------------------------------------------------------------------
    def _live(self, conn: Connection, username: str) -> dict[str, Any]:
        try:
            name = canonical_name(username)
        except ValueError as e:
            raise Invalid("username", str(e)) from None
        try:
            return dict(users.get_user(conn, name)._mapping)
        except AcctNotFound:
            if useredit.is_deleted(conn, name):
                raise Conflict(f"user {name!r} is deleted: a deleted user cannot be "
                               "edited") from None
            raise NotFound("user", name) from None

    def _view(self, conn: Connection, row: dict[str, Any]) -> dict[str, Any]:
        uid = row["id"]
        prof = useredit.profile(conn, uid)
        fin = useredit.credit(conn, uid)
        synced = prof["source"] == "ldap"
        return {"username": row["username"], "full_name": row["full_name"],
                "internal": row["internal"], "admin": row["admin"],
                "disabled": row["disabled"], "person": not prof["abstract"],
                "emails": useredit.emails(conn, uid), "card_number": row["card_number"],
                "id_number": prof["id_number"], "pin_set": bool(prof["pin_hash"]),
                "password_set": bool(row["password_hash"]),
                "uuid_token": prof["uuid_token"], **fin,
                "source": prof["source"],
                "sync_overwrites": list(self.sync_overwrites()) if synced else [],
                "erased_at": _utc(prof["erased_at"])}

    def details(self, actor: Actor, username: str) -> dict[str, Any]:
        _require(actor, Access.READ)
        with self.engine.connect() as conn:
            return self._view(conn, self._live(conn, username))

    # -- writing ----------------------------------------------------------------------
    def _write(self, actor: Actor, username: str, action: str,
               work: Callable[[Connection, dict[str, Any]], T]) -> tuple[dict[str, Any],
                                                                         dict[str, Any], T]:
        _require(actor, Access.WRITE)

        def tx(conn: Connection) -> tuple[dict[str, Any], dict[str, Any], T]:
            row = self._live(conn, username)
            before = self._view(conn, row)
            result = work(conn, row)
            return before, self._view(conn, useredit.user_row(conn, row["id"])), result
        try:
            before, after, result = in_transaction(self.engine, tx)
        except Duplicate as e:
            shown = (f"already used by user {e.owner!r}" if actor.may(Section.USERS,
                                                                    Access.READ)
                     else "already used by another user")
            raise Invalid(e.field, shown) from None
        except FieldError as e:
            raise Invalid(e.field, e.detail) from None
        changed_before = {k: _masked(k, v) for k, v in before.items() if after.get(k) != v}
        changed_after = {k: _masked(k, after[k]) for k in changed_before}
        if changed_before or action != "user.edit":
            self.audit.record(entry(actor, action, f"user:{after['username']}",
                                    changed_before, changed_after))
        return before, after, result

    def update(self, actor: Actor, username: str, changes: UserChanges) -> dict[str, Any]:
        c = self.config()
        limits = lengths(c)
        if (changes.credit_source, changes.credit_limit) != (None, None):
            _require_finance(actor)
        try:
            card_format, card_order = CardFormat(changes.card_format), \
                ByteOrder(changes.card_order)
        except ValueError:
            raise Invalid("card-format", "hex or dec, and lsb or msb") from None
        if changes.credit_source is not None and changes.credit_source not in \
                {s.value for s in CreditSource}:
            raise Invalid("credit-limit-source", "none, group or individual")

        def work(conn: Connection, row: dict[str, Any]) -> None:
            uid = row["id"]
            if changes.full_name is not None and len(changes.full_name) > 255:
                raise FieldError("full-name", "at most 255 characters")
            if (changes.full_name, changes.admin, changes.disabled) != (None, None, None):
                useredit.set_user_columns(conn, uid, full_name=changes.full_name,
                                          admin=changes.admin, disabled=changes.disabled)
            if changes.person is not None:
                useredit.set_profile(conn, uid, abstract=not changes.person)
            if changes.emails is not None:
                useredit.set_emails(conn, uid, userfields.emails(changes.emails))
            if changes.card_number is not None:
                useredit.set_card(conn, uid, userfields.card_number(
                    changes.card_number, card_format, card_order))
            if changes.id_number is not None:
                useredit.set_id_number(conn, uid, userfields.id_number(changes.id_number,
                                                                       limits))
            if changes.pin is not None:
                useredit.set_pin(conn, uid, userfields.pin(changes.pin, limits)
                                 if changes.pin else None)
            if changes.password is not None:
                if not row["internal"]:
                    raise FieldError("password", "only an internal user has a password "
                                     "here (an external one logs in at the directory)")
                useredit.set_password(conn, uid, userfields.password(changes.password,
                                                                     limits)
                                      if changes.password else None)
            if changes.credit_source is not None or changes.credit_limit is not None:
                current = useredit.credit(conn, uid)
                source = CreditSource(changes.credit_source or current["credit_source"])
                limit = (changes.credit_limit if changes.credit_limit is not None
                         else current["credit_limit"])
                if not 0 <= limit <= MAX_BALANCE:
                    raise FieldError("credit-limit", f"0 to {MAX_BALANCE}")
                useredit.set_credit(conn, uid, source, limit,
                                    useredit.group_default(conn, uid, current["currency"]))
        return self._write(actor, username, "user.edit", work)[1]

    def set_property(self, actor: Actor, username: str, prop: str, value: str, *,
                     card_format: str = "hex", card_order: str = "lsb") -> dict[str, Any]:
        return self.update(actor, username, changes_from_property(
            prop, value, card_format=card_format, card_order=card_order))

    def new_token(self, actor: Actor, username: str) -> dict[str, Any]:
        """The Generate button: a new UUID token; the old one stops working."""
        return self._write(actor, username, "user.token",
                           lambda conn, row: useredit.new_token(conn, row["id"]))[1]

    def set_balance(self, actor: Actor, username: str, balance: int, reason: str,
                    key: str | None = None) -> tuple[dict[str, Any], Posting | None]:
        """A new balance: one correction ledger row (reason, actor); the caller notifies
        the user (services/usernotices.py) when a row was written."""
        _require_finance(actor)
        if not -MAX_BALANCE <= balance <= MAX_BALANCE:
            raise Invalid("balance", f"at most {MAX_BALANCE} minor units either way")
        if not reason.strip() or len(reason) > 500:
            raise Invalid("reason", "1 to 500 characters")
        ikey = key or str(uuid.uuid4())

        def work(conn: Connection, row: dict[str, Any]) -> Posting | None:
            try:
                return useredit.set_balance(conn, row["id"], balance, reason=reason.strip(),
                                            actor=actor.name, key=ikey)
            except AccountingError as e:
                raise FieldError("balance", str(e)) from None
        _b, after, posting = self._write(actor, username, "user.balance", work)
        return after, posting


def _masked(key: str, value: Any) -> Any:
    """The audit log keeps that the token changed, not the token (a printer URL secret)."""
    if key == "uuid_token":
        return "(set)" if value else None
    return value
