"""Login sessions of the admin app, shared by every node through the database.

A session id is ``secrets.token_urlsafe(32)`` (256 bits); only its SHA-256 is stored, so
the table cannot be replayed as cookies. Each session has its own CSRF token (the
synchronizer token pattern, OWASP CSRF cheat sheet), random too, which the web layer
compares in constant time on every state-changing browser request. A session ends when it
has been idle longer than ``idle`` or alive longer than ``absolute``, or at logout.
A desktop login's session (``desktop``, services/desktop_login.py) is marked so: the web
layer gives it user rights only, whatever rights its principal has.
``seen_at`` is written at most once per ``touch`` interval, not on every request.

A store has a ``scope``: "" for the web app's logins, ``station:<printer>`` for a release
station's (services/station.py). A session is found only by a store of its own scope, so a
station's session id never opens the admin or user app, nor another printer's station; and
each scope sweeps only its own expired rows (a station's short idle time must not end the
web app's sessions).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, delete, insert, or_, select, update

from ippproxy.accounting import useredit
from ippproxy.accounting.txn import in_transaction
from ippproxy.db import reading
from ippproxy.db.base import aware, utcnow
from ippproxy.services.admins import Principal
from ippproxy.services.authmodels import SESSIONS


@dataclass(frozen=True)
class SessionSettings:
    idle: float = 1800.0       # seconds without a request
    absolute: float = 43200.0  # seconds since login
    touch: float = 60.0        # how stale seen_at may get before it is written


@dataclass(frozen=True)
class Session:
    principal: Principal
    csrf: str
    created_at: dt.datetime
    desktop: bool = False   # proven by the local socket's peer: user rights only


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()




class Sessions:
    def __init__(self, engine: Engine, settings: SessionSettings = SessionSettings(),
                 scope: str = "") -> None:
        self.engine = engine
        self.settings = settings
        self.scope = scope

    def create(self, principal: Principal, address: str, *, desktop: bool = False
               ) -> tuple[str, Session]:
        """A new session: its id (for the cookie, never stored) and the session."""
        sid = secrets.token_urlsafe(32)
        now = utcnow()
        session = Session(principal, secrets.token_urlsafe(32), now, desktop)
        idle = now - dt.timedelta(seconds=self.settings.idle)
        old = now - dt.timedelta(seconds=self.settings.absolute)

        def work(conn: Connection) -> None:
            # Expired sessions go as new ones come.
            conn.execute(delete(SESSIONS).where(SESSIONS.c.scope == self.scope,
                                                or_(SESSIONS.c.seen_at < idle,
                                                    SESSIONS.c.created_at < old)))
            conn.execute(insert(SESSIONS).values(
                id_hash=digest(sid), principal=principal.name, master=principal.master,
                csrf=session.csrf, address=address[:64], created_at=now, seen_at=now,
                scope=self.scope, desktop=desktop))
            if not principal.master:  # the UUID token is made at the first login (issue 18)
                useredit.ensure_token_for(conn, principal.name)
        in_transaction(self.engine, work)
        return sid, session

    def lookup(self, sid: str) -> Session | None:
        """The live session with this id; None if unknown or expired."""
        if not sid or len(sid) > 128:
            return None
        key = digest(sid)
        with reading(self.engine) as conn:   # every web request: never the write lock
            row = conn.execute(select(SESSIONS).where(SESSIONS.c.id_hash == key,
                                                      SESSIONS.c.scope == self.scope)
                               ).mappings().first()
        if row is None:
            return None
        now = utcnow()
        seen, created = aware(row["seen_at"]), aware(row["created_at"])
        s = self.settings
        if (now - seen).total_seconds() > s.idle or (now - created).total_seconds() > s.absolute:
            self.end(sid)
            return None
        if (now - seen).total_seconds() > s.touch:
            in_transaction(self.engine, lambda c: c.execute(
                update(SESSIONS).where(SESSIONS.c.id_hash == key).values(seen_at=now)))
        return Session(Principal(row["principal"], bool(row["master"])), row["csrf"], created,
                       bool(row["desktop"]))

    def end(self, sid: str) -> None:
        key = digest(sid)
        in_transaction(self.engine, lambda c: c.execute(
            delete(SESSIONS).where(SESSIONS.c.id_hash == key, SESSIONS.c.scope == self.scope)))

    def end_all(self, principal: Principal) -> int:
        """Log a principal out everywhere, release stations included, whatever this
        store's scope (after a password change)."""
        return int(in_transaction(self.engine, lambda c: c.execute(
            delete(SESSIONS).where(SESSIONS.c.principal == principal.name,
                                   SESSIONS.c.master.is_(principal.master))).rowcount))
