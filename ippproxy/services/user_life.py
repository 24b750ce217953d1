"""Creating, deleting and erasing users, and their personal data download (SavaPage
manual, "Users", §4.4.3, §4.4.5, §4.4.6; GDPR art. 15, 17, 20; issue 18). Each change is
audited. The admin pages, ``/api/v1/users`` and ``ippproxy cmd`` (add-internal-user,
delete-user, erase-user, export-user-data) call this. Blocking: call it in a thread.

The download is one ZIP: ``personal-data.json`` (everything) and one CSV per list
(groups, accounts, transactions, jobs, audit), job metadata only, never documents.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, delete, update

from ippproxy.accounting import useredit, userfields, userlife, users
from ippproxy.accounting.errors import AccountingError
from ippproxy.accounting.errors import NotFound as AcctNotFound
from ippproxy.accounting.identity import canonical_name
from ippproxy.accounting.roles import BuiltinGroup
from ippproxy.accounting.txn import in_transaction
from ippproxy.accounting.userfields import FieldError
from ippproxy.catalog import AuditQuery, Catalog
from ippproxy.config import UsersConfig
from ippproxy.services.actor import Access, Actor, Section
from ippproxy.services.auditsink import AuditSink, entry
from ippproxy.services.authmodels import PRINTER_URLS, SESSIONS
from ippproxy.services.errors import Conflict, Forbidden, Invalid, NotFound
from ippproxy.services.user_edit import lengths

AUDIT_PAGE = 1000


@dataclass(frozen=True)
class NewUser:
    username: str  # without the prefix (internal-users.username-prefix), added here
    password: str
    full_name: str = ""
    emails: str = ""


def _require(actor: Actor, access: Access) -> None:
    if not actor.may(Section.USERS, access):
        raise Forbidden(f"{access.name.lower()} access to users is needed")


def _name(raw: str) -> str:
    try:
        return canonical_name(raw)
    except ValueError as e:
        raise Invalid("username", str(e)) from None


def _plain(v: Any) -> Any:
    return v.isoformat() if isinstance(v, dt.datetime) else v


class UserLife:
    def __init__(self, engine: Engine, audit: AuditSink, config: Callable[[], UsersConfig],
                 currency: Callable[[], str], catalog: Catalog | None = None) -> None:
        self.engine = engine
        self.audit = audit
        self.config = config
        self.currency = currency
        self.catalog = catalog

    def _live(self, conn: Connection, name: str) -> dict[str, Any]:
        try:
            return dict(users.get_user(conn, name)._mapping)
        except AcctNotFound:
            if useredit.is_deleted(conn, name):
                raise Conflict(f"user {name!r} is deleted") from None
            raise NotFound("user", name) from None

    def create_internal(self, actor: Actor, new: NewUser) -> str:
        """An internal user: the id prefixed, a password of the minimum length, the
        financial data of the Internal Users group's new-user settings (a group named
        ``internal-users``), else balance 0 and an individual credit limit of 0."""
        _require(actor, Access.WRITE)
        c = self.config()
        name = _name(c.username_prefix + new.username)
        try:
            password = userfields.password(new.password, lengths(c))
            addresses = userfields.emails(new.emails)
        except FieldError as e:
            raise Invalid(e.field, e.detail) from None
        if len(new.full_name) > 255:
            raise Invalid("full-name", "at most 255 characters")
        currency = self.currency()

        def work(conn: Connection) -> None:
            if users.find_user(conn, name) is not None:
                raise Conflict(f"user {name!r} exists")
            defaults = (users.group_defaults(conn, BuiltinGroup.INTERNAL_USERS, currency)
                        or users.UserDefaults(currency, 0, True, 0))
            uid = users.add_user(conn, name, defaults=defaults, internal=True,
                                 password=password, full_name=new.full_name,
                                 actor=actor.name)
            if addresses:
                useredit.set_emails(conn, uid, addresses)
        try:
            in_transaction(self.engine, work)
        except useredit.Duplicate as e:
            raise Invalid(e.field, f"already used by user {e.owner!r}") from None
        self.audit.record(entry(actor, "user.create", f"user:{name}", None,
                                {"internal": True, "full_name": new.full_name,
                                 "emails": list(addresses)}))
        return name

    def delete(self, actor: Actor, username: str) -> dict[str, Any]:
        """Logical while job history or transactions exist, else physical."""
        _require(actor, Access.WRITE)
        name = _name(username)

        def work(conn: Connection) -> tuple[str, bool]:
            self._live(conn, name)
            uid, logical = userlife.delete_user(conn, name)
            _forget(conn, name)
            return str(uid), logical
        uid, logical = in_transaction(self.engine, work)
        result = {"username": name, "id": uid, "deleted": "logical" if logical
                  else "physical"}
        self.audit.record(entry(actor, "user.delete", f"user:{name}", {"deleted": None},
                                result))
        return result

    def erase(self, actor: Actor, username: str) -> dict[str, Any]:
        """Clear the user's personal data (GDPR art. 17); the placeholder name it gets."""
        _require(actor, Access.WRITE)
        name = _name(username)
        now = dt.datetime.now(dt.UTC)

        def work(conn: Connection) -> tuple[str, str]:
            self._live(conn, name)
            uid, placeholder = userlife.erase_user(conn, name, now)
            _forget(conn, name)
            return str(uid), placeholder
        uid, placeholder = in_transaction(self.engine, work)
        result = {"username": placeholder, "id": uid, "erased_at": now.isoformat()}
        self.audit.record(entry(actor, "user.erase", f"user:{placeholder}",
                                {"username": "(erased)"}, result))
        return result

    def sweep(self) -> list[str]:
        """Physically delete logically deleted users whose history aged out (daily)."""
        gone = in_transaction(self.engine, userlife.sweep)
        return [str(u) for u in gone]

    def _audit_about(self, name: str) -> list[dict[str, Any]]:
        if self.catalog is None:
            return []
        found: dict[int, dict[str, Any]] = {}
        for q in (AuditQuery(kind="user", name=name, limit=AUDIT_PAGE),
                  AuditQuery(actor=name, limit=AUDIT_PAGE)):
            while True:
                batch = self.catalog.audit_log(q)
                for e in batch:
                    found[e.id] = {"id": e.id, "at": e.at.isoformat(), "actor": e.actor,
                                   "via": e.via, "action": e.action, "kind": e.kind,
                                   "name": e.name, "before": e.before, "after": e.after}
                if len(batch) < AUDIT_PAGE:
                    break
                q = AuditQuery(kind=q.kind, name=q.name, actor=q.actor, limit=AUDIT_PAGE,
                               before_id=batch[-1].id)
        return [found[k] for k in sorted(found)]

    def personal_data(self, actor: Actor, username: str) -> dict[str, Any]:
        _require(actor, Access.READ)
        name = _name(username)
        try:
            with self.engine.connect() as conn:
                self._live(conn, name)
                data = userlife.personal_data(conn, name)
        except AccountingError as e:
            raise NotFound("user", name) from e
        data["audit"] = self._audit_about(name)
        return data

    def export_zip(self, actor: Actor, username: str) -> bytes:
        """The personal data download: one ZIP of JSON and CSV."""
        data = self.personal_data(actor, username)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("personal-data.json", json.dumps(data, indent=2, default=str))
            z.writestr("profile.csv", _csv([data["profile"]]))
            z.writestr("groups.csv", _csv([{"group": g} for g in data["groups"]]))
            for part in ("accounts", "transactions", "jobs", "audit"):
                z.writestr(f"{part}.csv", _csv(data[part]))
        return buf.getvalue()


def _forget(conn: Connection, name: str) -> None:
    """The name is free from now on (a new user may take it): its web sessions end and its
    personal printer URLs are revoked, so none of them proves the next owner of the name."""
    conn.execute(delete(SESSIONS).where(SESSIONS.c.principal == name))
    conn.execute(update(PRINTER_URLS).where(PRINTER_URLS.c.principal == name,
                                            PRINTER_URLS.c.revoked_at.is_(None))
                 .values(revoked_at=dt.datetime.now(dt.UTC)))


def _csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    if not rows:
        return ""
    w = csv.DictWriter(out, fieldnames=list(rows[0]), extrasaction="ignore")
    w.writeheader()
    for r in rows:
        w.writerow({k: _cell(v) for k, v in r.items()})
    return out.getvalue()


def _cell(v: Any) -> Any:
    """A value as a CSV cell; a text starting with = + - @ is quoted against formula
    injection in spreadsheets (OWASP CSV injection)."""
    v = _plain(v)
    if isinstance(v, (list, dict)):
        v = json.dumps(v, default=str)
    if isinstance(v, str) and v[:1] in ("=", "+", "-", "@"):
        return "'" + v
    return v
