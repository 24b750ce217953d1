"""Personal printer URLs: ``ipps://HOST:PORT/printers/QUEUE/u/SECRET`` (issue 17).

A client that cannot log in (Android sends the phone model as ``requesting-user-name``,
ChromeOS no real user) proves its user with a secret in the URL's path instead. A user
names one URL per device ("phone", "laptop"), at most ``MAX_PER_USER`` live ones, and
revokes any of them; the secret is ``ipxu_`` followed by ``secrets.token_urlsafe(24)``
(URL-safe, 192 bits), shown once when the URL is made, and stored as its SHA-256 only
(``auth_printer_urls``). A revoked URL stays listed and proves nobody from then on.

Rights: a user manages their own URLs; managing another user's needs write access to the
users section. Every creation and revocation is audited.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, update

from ippproxy.accounting import useredit
from ippproxy.accounting.identity import canonical_name
from ippproxy.accounting.txn import in_transaction
from ippproxy.db.base import aware, utcnow
from ippproxy.services.actor import Access, Actor, Section
from ippproxy.services.auditsink import AuditSink, entry
from ippproxy.services.authmodels import PRINTER_URLS
from ippproxy.services.errors import Forbidden, Invalid, NotFound
from ippproxy.services.sessions import digest

PREFIX = "ipxu_"
MAX_PER_USER = 20
MAX_SECRET = 128
TOUCH_SECONDS = 60.0


@dataclass(frozen=True)
class PrinterUrlInfo:
    id: str
    user: str
    name: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None




def _info(r: Mapping[Any, Any]) -> PrinterUrlInfo:
    return PrinterUrlInfo(str(r["id"]), r["principal"], r["name"],
                          aware(r["created_at"]) or utcnow(), aware(r["last_used_at"]),
                          aware(r["revoked_at"]))


def _owner(actor: Actor, user: str) -> str:
    """The canonical owner, if ``actor`` may manage their URLs."""
    try:
        name = canonical_name(user)
    except ValueError as e:
        raise Invalid("user", str(e)) from None
    if name != actor.name and not actor.may(Section.USERS, Access.WRITE):
        raise Forbidden("only the user (or an admin with write access to users) manages "
                        "their printer URLs")
    return name


def _label(raw: str) -> str:
    name = raw.strip()
    if not name or len(name) > 64 or not name.isprintable():
        raise Invalid("name", "1 to 64 printable characters")
    return name


def secret_shape(secret: str) -> bool:
    """Whether ``secret`` could be one of ours (anything else is not looked up)."""
    return (secret.startswith(PREFIX) and len(secret) <= MAX_SECRET
            and all(c.isascii() and (c.isalnum() or c in "-_") for c in secret))


class PrinterUrls:
    """Blocking (database): callers on the event loop run it in a thread."""

    def __init__(self, engine: Engine, audit: AuditSink,
                 queues: Callable[[], Iterable[str]] = tuple,
                 uuid_tokens: Callable[[], bool] = lambda: False) -> None:
        """``queues``: the names of the queues that serve personal URLs now
        (``authentication = "token"``); ``uuid_tokens``: whether the admin lets a user's
        UUID token (the edit-user page's, issue 18) be the secret too
        (``users.uuid_printer_urls``)."""
        self.engine = engine
        self.audit = audit
        self.queues = queues
        self.uuid_tokens = uuid_tokens

    def offered(self) -> tuple[str, ...]:
        """The queues a personal URL prints to, in the configuration's order."""
        return tuple(self.queues())

    def create(self, actor: Actor, user: str, name: str) -> tuple[PrinterUrlInfo, str]:
        """A new URL and its secret (the only time the secret is seen)."""
        owner, label = _owner(actor, user), _label(name)
        secret = PREFIX + secrets.token_urlsafe(24)
        uid, now = uuid.uuid4(), utcnow()

        def work(conn: Connection) -> None:
            live = conn.execute(select(func.count()).select_from(PRINTER_URLS).where(
                PRINTER_URLS.c.principal == owner, PRINTER_URLS.c.revoked_at.is_(None))
            ).scalar_one()
            if live >= MAX_PER_USER:
                raise Invalid("name", f"at most {MAX_PER_USER} live printer URLs; "
                              "revoke one first")
            conn.execute(insert(PRINTER_URLS).values(
                id=uid, principal=owner, name=label, secret_hash=digest(secret),
                created_at=now))
        in_transaction(self.engine, work)
        self.audit.record(entry(actor, "printer-url.create", f"user:{owner}", None,
                                {"id": str(uid), "name": label}))
        return PrinterUrlInfo(str(uid), owner, label, now, None, None), secret

    def list(self, actor: Actor, user: str, *,
             include_revoked: bool = False) -> list[PrinterUrlInfo]:
        owner = _owner(actor, user)
        stmt = (select(PRINTER_URLS).where(PRINTER_URLS.c.principal == owner)
                .order_by(PRINTER_URLS.c.created_at, PRINTER_URLS.c.id))
        if not include_revoked:
            stmt = stmt.where(PRINTER_URLS.c.revoked_at.is_(None))
        with self.engine.connect() as conn:
            return [_info(r) for r in conn.execute(stmt).mappings()]

    def revoke(self, actor: Actor, user: str, url_id: str) -> PrinterUrlInfo:
        owner = _owner(actor, user)
        try:
            uid = uuid.UUID(url_id)
        except ValueError:
            raise NotFound("printer URL", url_id) from None
        now = utcnow()

        def work(conn: Connection) -> PrinterUrlInfo:
            row = conn.execute(select(PRINTER_URLS).where(
                PRINTER_URLS.c.id == uid, PRINTER_URLS.c.principal == owner)
            ).mappings().first()
            if row is None:   # another user's URL is as unknown as a missing one
                raise NotFound("printer URL", url_id)
            if row["revoked_at"] is None:
                conn.execute(update(PRINTER_URLS).where(PRINTER_URLS.c.id == uid)
                             .values(revoked_at=now))
            return _info({**row, "revoked_at": row["revoked_at"] or now})
        info = in_transaction(self.engine, work)
        self.audit.record(entry(actor, "printer-url.revoke", f"user:{owner}",
                                {"id": str(uid), "revoked": False},
                                {"id": str(uid), "revoked": True}))
        return info

    def authenticate(self, secret: str) -> str | None:
        """The canonical name of a live URL's owner; None for anything else."""
        if not secret_shape(secret):
            return self._by_uuid_token(secret)
        with self.engine.connect() as conn:
            row = conn.execute(select(PRINTER_URLS).where(
                PRINTER_URLS.c.secret_hash == digest(secret),
                PRINTER_URLS.c.revoked_at.is_(None))).mappings().first()
        if row is None:
            return None
        now, seen = utcnow(), aware(row["last_used_at"])
        if seen is None or (now - seen).total_seconds() > TOUCH_SECONDS:
            in_transaction(self.engine, lambda c: c.execute(
                update(PRINTER_URLS).where(PRINTER_URLS.c.id == row["id"])
                .values(last_used_at=now)))
        return str(row["principal"])

    def _by_uuid_token(self, secret: str) -> str | None:
        """The live, enabled user whose UUID token ``secret`` is, where the admin allows."""
        if len(secret) != 36 or not self.uuid_tokens():
            return None
        try:
            token = str(uuid.UUID(secret))
        except ValueError:
            return None
        with self.engine.connect() as conn:
            return useredit.user_by_token(conn, token)
