"""The optional second factor of a sign-in: TOTP (RFC 6238, 30-second steps, 6 digits,
HMAC-SHA1: what every authenticator app speaks), per principal. No HTTP; blocking
(database): the web layer calls it in a thread.

Theory of operation. ``begin`` makes a new random secret (``pyotp.random_base32``: 160
bits from ``secrets``) and keeps it pending; the user adds it to an app from the
``otpauth://`` URI (a QR code on the page) and proves it with a code (``confirm``); from
then on ``verify`` is required at every sign-in (``web.auth.log_in``: the user app, the
admin app and the REST login alike). A code is accepted for the current step and one
step either side (clock drift, RFC 6238 §5.2), compared in constant time, and only once:
the step it matched is stored and no code of that step or an earlier one counts again
(§5.2, "the verifier MUST NOT accept the second attempt of the same OTP"). Turning it off
(``disable``) needs a valid code too, so a stolen session alone cannot remove it. The
secret must be readable to check codes, so it is stored as is (like the key in the app).
Every change is audited.
"""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass

import pyotp
from sqlalchemy import Connection, Engine, delete, insert, select, update

from ippproxy.accounting.txn import in_transaction
from ippproxy.db.base import utcnow
from ippproxy.services.actor import Actor
from ippproxy.services.auditsink import AuditSink, entry
from ippproxy.services.authmodels import TOTP
from ippproxy.services.errors import Conflict, Invalid

ISSUER = "ippproxy"
STEP = 30        # seconds (RFC 6238 §4: X)
DRIFT = 1        # steps accepted either side of now


@dataclass(frozen=True)
class TotpState:
    enabled: bool    # required at sign-in
    pending: bool    # a secret made, not yet confirmed with a code


@dataclass(frozen=True)
class Enrolment:
    secret: str      # base32, for typing into an app by hand
    uri: str         # otpauth://totp/... for the QR code



def _digits(code: str) -> str | None:
    """The code as typed ("123 456" is 123456); None unless six ASCII digits."""
    s = code.replace(" ", "").strip()
    return s if len(s) == 6 and s.isascii() and s.isdigit() else None


def matching_step(secret: str, code: str, at: float | None = None) -> int | None:
    """The time step (±``DRIFT``) whose code this is; None for none."""
    typed = _digits(code)
    if typed is None:
        return None
    now = time.time() if at is None else at
    totp = pyotp.TOTP(secret, interval=STEP)
    found = None
    for offset in range(-DRIFT, DRIFT + 1):
        t = now + offset * STEP
        if hmac.compare_digest(totp.at(t).encode(), typed.encode()):
            found = int(t // STEP)
    return found


class Totp:
    def __init__(self, engine: Engine, audit: AuditSink, issuer: str = ISSUER) -> None:
        self.engine = engine
        self.audit = audit
        self.issuer = issuer

    def _row(self, conn: Connection, principal: str) -> dict[str, object] | None:
        row = conn.execute(select(TOTP).where(TOTP.c.principal == principal)
                           ).mappings().first()
        return dict(row) if row is not None else None

    def state(self, actor: Actor) -> TotpState:
        with self.engine.connect() as conn:
            row = self._row(conn, actor.name)
        if row is None:
            return TotpState(False, False)
        return TotpState(row["confirmed_at"] is not None, row["confirmed_at"] is None)

    def required(self, principal: str) -> bool:
        with self.engine.connect() as conn:
            row = self._row(conn, principal)
        return row is not None and row["confirmed_at"] is not None

    def begin(self, actor: Actor) -> Enrolment:
        """A new pending secret (replacing a pending one); refused while one is on."""
        secret = pyotp.random_base32()

        def work(conn: Connection) -> None:
            row = self._row(conn, actor.name)
            if row is not None and row["confirmed_at"] is not None:
                raise Conflict("two-step sign-in is on already; turn it off first")
            conn.execute(delete(TOTP).where(TOTP.c.principal == actor.name))
            conn.execute(insert(TOTP).values(principal=actor.name, secret=secret,
                                             created_at=utcnow()))
        in_transaction(self.engine, work)
        return self.enrolment(actor) or Enrolment(secret, "")

    def enrolment(self, actor: Actor) -> Enrolment | None:
        """The pending secret and its URI (None when nothing is pending)."""
        with self.engine.connect() as conn:
            row = self._row(conn, actor.name)
        if row is None or row["confirmed_at"] is not None:
            return None
        secret = str(row["secret"])
        uri = pyotp.TOTP(secret, interval=STEP).provisioning_uri(
            name=actor.name, issuer_name=self.issuer)
        return Enrolment(secret, uri)

    def _use(self, principal: str, code: str, *, confirmed: bool) -> bool:
        """Check ``code`` against the principal's secret (confirmed or pending) and use
        its step up; False for a wrong, malformed or replayed code."""

        def work(conn: Connection) -> bool:
            row = self._row(conn, principal)
            if row is None or (row["confirmed_at"] is not None) != confirmed:
                return False
            step = matching_step(str(row["secret"]), code)
            last = row["last_step"]
            if step is None or (isinstance(last, int) and step <= last):
                return False
            values: dict[str, object] = {"last_step": step}
            if not confirmed:
                values["confirmed_at"] = utcnow()
            conn.execute(update(TOTP).where(TOTP.c.principal == principal).values(**values))
            return True
        return bool(in_transaction(self.engine, work))

    def confirm(self, actor: Actor, code: str) -> None:
        if not self._use(actor.name, code, confirmed=False):
            raise Invalid("code", "not the current code of the secret shown; try the next one")
        self.audit.record(entry(actor, "totp.enable", f"user:{actor.name}", None,
                                {"totp": True}))

    def verify(self, principal: str, code: str) -> bool:
        """At sign-in: whether ``code`` is the principal's current, unused code."""
        return self._use(principal, code, confirmed=True)

    def disable(self, actor: Actor, code: str) -> None:
        if not self.required(actor.name):
            raise Conflict("two-step sign-in is off")
        if not self._use(actor.name, code, confirmed=True):
            raise Invalid("code", "not the current code of your authenticator app")
        in_transaction(self.engine, lambda c: c.execute(
            delete(TOTP).where(TOTP.c.principal == actor.name)))
        self.audit.record(entry(actor, "totp.disable", f"user:{actor.name}",
                                {"totp": True}, {"totp": False}))
