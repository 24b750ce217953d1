"""Who stands at a release station (issue 17 §6): a user proven by a card number (alone, or
with the user's PIN where the site asks for it: ``release.station_card_needs_pin``), by user
name or ID number and the user's PIN, or by user name and password, each under the login
throttle (services/throttle.py: per name and per client address, kept in the database),
each attempt audited. Blocking (database, argon2): the web page calls it in a thread.

Three PINs are never confused (issue 17 item 5): the user's PIN (``useredit.verify_user_pin``)
is checked here only, against the one user the card or the name names; a job's PIN only by
``Release.release_pin``; a shared account's PIN only when a job is charged to it. A wrong
user PIN is throttled and audited as a wrong password is, under the same key (the user's
canonical name), so guesses at a user's password and PIN add up. The answer never tells
which part was wrong, nor whether the user has a PIN: an unknown card or name costs the
same argon2 work as a wrong PIN.

A card number alone is throttled as ``card`` per address (its wrong guesses count against
the kiosk's address as wrong passwords do), a job PIN as ``pin:<printer>`` per address
(a PIN has 10,000 values: without a limit, they could be tried one by one).

The station's sessions live in the shared session table (services/sessions.py, scope
``station:<printer>``), so a station's next request may reach any node behind a load
balancer; they end after ``release.station_idle`` seconds without a request.
"""

from __future__ import annotations

from dataclasses import dataclass

from ippproxy.accounting import useredit
from ippproxy.accounting.identity import canonical_name
from ippproxy.accounting.users import name_by_card
from ippproxy.config import STATION_IDLE_MAX
from ippproxy.services.actor import Actor, Via
from ippproxy.services.admins import Admins, Principal
from ippproxy.services.auditsink import entry
from ippproxy.services.sessions import Sessions, SessionSettings
from ippproxy.services.throttle import LoginThrottle

MAX_CARD = 64


def _key(name: str) -> str:
    """The throttle key of a typed name: canonical when it can be, else escaped."""
    try:
        return canonical_name(name)
    except ValueError:
        return name[:255].encode("unicode_escape").decode("ascii")[:255]


class StationLogin:
    """The station of ``printer`` (its queue names the audit entries)."""

    def __init__(self, admins: Admins, throttle: LoginThrottle, printer: str, *,
                 card_needs_pin: bool = False) -> None:
        self.admins, self.throttle, self.printer = admins, throttle, printer
        self.card_needs_pin = card_needs_pin

    def _failed(self, key: str, address: str, what: str) -> None:
        self.throttle.failed(key, address)
        self.admins.audit.record(entry(Actor(key, Via.SESSION), "station.login-failed",
                                       f"queue:{self.printer}", None,
                                       {"address": address, "by": what}))

    def _proven(self, name: str, address: str, how: str) -> Actor | None:
        actor = self.admins.actor(Principal(name, False), Via.SESSION)
        if actor is not None:
            self.admins.audit.record(entry(actor, "station.login", f"user:{name}", None,
                                           {"address": address, "by": how,
                                            "printer": self.printer}))
        return actor

    def password(self, name: str, password: str, address: str) -> Actor | float | None:
        """The user, None (wrong name or password), or the seconds to wait first."""
        key = _key(name)
        wait = self.throttle.retry_after(key, address)
        if wait > 0:
            return wait
        principal = self.admins.authenticate(name, password)
        actor = None if principal is None or principal.master else self._proven(
            principal.name, address, "password")
        if actor is None:
            self._failed(key, address, "password")
            return None
        self.throttle.succeeded(key)
        return actor

    def _card_owner(self, number: str) -> str | None:
        if not 0 < len(number) <= MAX_CARD or not number.isprintable():
            return None
        with self.admins.engine.connect() as conn:
            return name_by_card(conn, number)

    def card(self, number: str, pin: str | None, address: str) -> Actor | float | None:
        """The card's owner, None (unknown card, or wrong PIN), or the seconds to wait.
        With ``pin`` the owner's PIN must match; without, the site must allow a card
        alone (``card_needs_pin`` false)."""
        if pin is not None:
            return self._with_pin(self._card_owner(number), "card", pin, address, "card+pin")
        wait = self.throttle.retry_after("card", address)
        if wait > 0:
            return wait
        name = None if self.card_needs_pin else self._card_owner(number)
        actor = None if name is None else self._proven(name, address, "card")
        if actor is None:
            self._failed("card", address, "card")
        return actor

    def user_pin(self, typed: str, pin: str, address: str) -> Actor | float | None:
        """The user named by ``typed`` (a user name, else an ID number) whose PIN this is;
        None (no such user, no PIN, or a wrong one), or the seconds to wait."""
        with self.admins.engine.connect() as conn:
            name = useredit.name_or_id_number(conn, typed[:255]) if typed.strip() else None
        return self._with_pin(name, _key(typed), pin, address, "user-pin")

    def _with_pin(self, name: str | None, unknown: str, pin: str, address: str,
                  how: str) -> Actor | float | None:
        key = name or unknown          # a known user's key is the one passwords use
        wait = self.throttle.retry_after(key, address)
        if wait > 0:
            return wait
        with self.admins.engine.connect() as conn:   # unknown: the same work, no answer
            right = useredit.verify_user_pin(conn, name or "", pin)
        actor = self._proven(name, address, how) if right and name else None
        if actor is None:
            self._failed(key, address, how)
            return None
        self.throttle.succeeded(key)
        return actor

    def pin_wait(self, address: str) -> float:
        return self.throttle.retry_after(f"pin:{self.printer}", address)

    def pin_failed(self, address: str) -> None:
        self._failed(f"pin:{self.printer}", address, "pin")


@dataclass(frozen=True)
class StationSession:
    actor: Actor
    csrf: str


class StationSessions:
    """The sessions of one printer's station, in the shared session table: a session made
    on one node is found by every other (issue 17 §6). The actor's rights are read anew at
    each request, so a user disabled meanwhile is signed out."""

    def __init__(self, admins: Admins, sessions: Sessions, printer: str, idle: float) -> None:
        self.admins = admins
        # seen_at is written every quarter of the idle time: a busy session never expires.
        self.store = Sessions(sessions.engine, SessionSettings(
            idle=idle, absolute=STATION_IDLE_MAX, touch=idle / 4), scope=f"station:{printer}")

    def open(self, actor: Actor, address: str) -> tuple[str, StationSession]:
        sid, session = self.store.create(Principal(actor.name, False), address)
        return sid, StationSession(actor, session.csrf)

    def get(self, sid: str | None) -> StationSession | None:
        """The live session of this printer's station (its idle time restarted), else None."""
        session = self.store.lookup(sid or "")
        if session is None:
            return None
        actor = self.admins.actor(session.principal, Via.SESSION)
        return None if actor is None else StationSession(actor, session.csrf)

    def end(self, sid: str | None) -> None:
        if sid:
            self.store.end(sid)
