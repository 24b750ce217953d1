"""Who stands at a release station (issue 17 §6): a user proven by a card number or by user
name and password, each under the login throttle (services/throttle.py: per name and per
client address, kept in the database), each attempt audited. Blocking (database, argon2):
the web page calls it in a thread.

A card number is throttled as ``card`` per address (its wrong guesses count against the
kiosk's address as wrong passwords do), a job PIN as ``pin:<printer>`` per address
(a PIN has 10,000 values: without a limit, they could be tried one by one).
"""

from __future__ import annotations

from ippproxy.accounting.identity import canonical_name
from ippproxy.accounting.users import name_by_card
from ippproxy.services.actor import Actor, Via
from ippproxy.services.admins import Admins, Principal
from ippproxy.services.auditsink import entry
from ippproxy.services.throttle import LoginThrottle

MAX_CARD = 64


class StationLogin:
    """The station of ``printer`` (its queue names the audit entries)."""

    def __init__(self, admins: Admins, throttle: LoginThrottle, printer: str) -> None:
        self.admins, self.throttle, self.printer = admins, throttle, printer

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
        try:
            key = canonical_name(name)
        except ValueError:
            key = name[:255].encode("unicode_escape").decode("ascii")[:255]
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

    def card(self, number: str, address: str) -> Actor | float | None:
        wait = self.throttle.retry_after("card", address)
        if wait > 0:
            return wait
        name = None
        if 0 < len(number) <= MAX_CARD and number.isprintable():
            with self.admins.engine.connect() as conn:
                name = name_by_card(conn, number)
        actor = None if name is None else self._proven(name, address, "card")
        if actor is None:
            self._failed("card", address, "card")
        return actor

    def pin_wait(self, address: str) -> float:
        return self.throttle.retry_after(f"pin:{self.printer}", address)

    def pin_failed(self, address: str) -> None:
        self._failed(f"pin:{self.printer}", address, "pin")
