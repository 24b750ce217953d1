"""API tokens for scripts: ``Authorization: Bearer <token>`` (RFC 6750 §2.1).

A token is ``ipxt_`` followed by ``secrets.token_urlsafe(32)``; it is shown once, when it
is created, and stored as its SHA-256 only. It carries an access level (read or write) on a
set of sections; an admin can only hand out what they hold. Revoked tokens stay listed
(who made them, when last used) but no longer authenticate. Managing tokens needs write
access to the ``options`` section. ``last_used_at`` is written at
most once per ``touch`` seconds.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, update

from ippproxy.accounting.txn import in_transaction
from ippproxy.db.base import aware, utcnow
from ippproxy.services.actor import Access, Actor, Section, Via
from ippproxy.services.auditsink import AuditSink, entry
from ippproxy.services.authmodels import TOKENS
from ippproxy.services.errors import Forbidden, Invalid, NotFound
from ippproxy.services.sessions import digest

PREFIX = "ipxt_"
MAX_TOKENS = 1000
TOUCH_SECONDS = 60.0


@dataclass(frozen=True)
class TokenInfo:
    id: str
    name: str
    access: Access
    sections: tuple[Section, ...]
    created_by: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None




def _require(actor: Actor) -> None:
    if not actor.may(Section.OPTIONS, Access.WRITE):
        raise Forbidden("managing API tokens needs write access to options")


def _info(r: Mapping[Any, Any]) -> TokenInfo:
    return TokenInfo(str(r["id"]), r["name"], Access(r["access"]),
                     tuple(Section(s) for s in r["sections"].split(",") if s),
                     r["created_by"], aware(r["created_at"]) or utcnow(),
                     aware(r["last_used_at"]), aware(r["revoked_at"]))


class Tokens:
    def __init__(self, engine: Engine, audit: AuditSink) -> None:
        self.engine = engine
        self.audit = audit

    def create(self, actor: Actor, name: str, access: Access,
               sections: tuple[Section, ...]) -> tuple[TokenInfo, str]:
        """A new token and its secret (the only time the secret is seen)."""
        name = name.strip()
        if not name or len(name) > 128 or any(ord(c) < 32 for c in name):
            raise Invalid("name", "1 to 128 printable characters")
        _require(actor)
        if access not in (Access.READ, Access.WRITE):
            raise Invalid("access", "read or write")
        if not sections:
            raise Invalid("sections", "name at least one section")
        for s in sections:
            if not actor.may(s, access):
                raise Forbidden(f"you cannot grant {access.name.lower()} on {s}: "
                                "you do not hold it")
        secret = PREFIX + secrets.token_urlsafe(32)
        now = utcnow()
        tid = uuid.uuid4()
        ordered = tuple(sorted(set(sections)))

        def work(conn: Connection) -> None:
            live = conn.execute(select(func.count()).select_from(TOKENS)
                                .where(TOKENS.c.revoked_at.is_(None))).scalar_one()
            if live >= MAX_TOKENS:
                raise Invalid("name", f"at most {MAX_TOKENS} live tokens; revoke some")
            conn.execute(insert(TOKENS).values(
                id=tid, name=name, secret_hash=digest(secret), access=int(access),
                sections=",".join(ordered), created_by=actor.name, created_at=now))
        in_transaction(self.engine, work)
        info = TokenInfo(str(tid), name, access, ordered, actor.name, now, None, None)
        self.audit.record(entry(actor, "token.create", f"token:{tid}", None,
                                {"name": name, "access": access.name.lower(),
                                 "sections": list(ordered)}))
        return info, secret

    def list(self, actor: Actor, *, include_revoked: bool = False) -> list[TokenInfo]:
        _require(actor)
        stmt = select(TOKENS).order_by(TOKENS.c.created_at, TOKENS.c.id)
        if not include_revoked:
            stmt = stmt.where(TOKENS.c.revoked_at.is_(None))
        with self.engine.connect() as conn:
            return [_info(m) for m in conn.execute(stmt).mappings()]

    def revoke(self, actor: Actor, token_id: str) -> TokenInfo:
        _require(actor)
        try:
            tid = uuid.UUID(token_id)
        except ValueError:
            raise NotFound("token", token_id) from None
        now = utcnow()

        def work(conn: Connection) -> TokenInfo:
            row = conn.execute(select(TOKENS).where(TOKENS.c.id == tid)).mappings().first()
            if row is None:
                raise NotFound("token", token_id)
            if row["revoked_at"] is None:
                conn.execute(update(TOKENS).where(TOKENS.c.id == tid).values(revoked_at=now))
            return _info({**row, "revoked_at": row["revoked_at"] or now})
        info = in_transaction(self.engine, work)
        self.audit.record(entry(actor, "token.revoke", f"token:{tid}",
                                {"revoked": False}, {"revoked": True}))
        return info

    def authenticate(self, secret: str) -> Actor | None:
        """The actor of a live token; None for anything else."""
        if not secret.startswith(PREFIX) or len(secret) > 128:
            return None
        key = digest(secret)
        with self.engine.connect() as conn:
            row = conn.execute(select(TOKENS).where(TOKENS.c.secret_hash == key,
                                                    TOKENS.c.revoked_at.is_(None))
                               ).mappings().first()
        if row is None:
            return None
        info = _info(row)
        now = utcnow()
        if info.last_used_at is None or (now - info.last_used_at).total_seconds() > TOUCH_SECONDS:
            in_transaction(self.engine, lambda c: c.execute(
                update(TOKENS).where(TOKENS.c.id == row["id"]).values(last_used_at=now)))
        return Actor(f"token:{info.name}", Via.TOKEN,
                     rights=tuple((s, info.access) for s in info.sections))
