"""Logins of IPP clients: HTTP Basic passwords and API tokens proven for the print server,
under the same rules as the admin endpoint.

Theory of operation. A password is checked only when the login throttle
(``throttle.LoginThrottle``, per canonical user name and per client address, kept in the
database) lets it through; a throttled attempt returns the seconds to wait and costs no
argon2. A failure is counted on both keys and audited (``ipp.login-failed``); the failure
that starts a wait is audited as ``ipp.lockout`` with the address and the wait. A success
clears the user's key. Who the principal is comes from ``Admins`` (the master admin, users
of the user store), and whether they are an admin from their rights *now*
(``Admins.actor``): the admin role, or a group's write access to the printers' section
(the section that pauses, disables and purges queues). ``current`` re-reads that for a
login the server remembered, so a disabled user is refused at the next request, and the
password's stamp (``Admins.credential_stamp``), so a changed password (the master's or a
user's, on any node) ends remembered logins at the next request too. A personal printer
URL's secret (``printer_url``) proves its owner while the URL is live and the owner enabled.
"""

from __future__ import annotations

from dataclasses import dataclass

from ippproxy.accounting.identity import canonical_name
from ippproxy.services.actor import Access, Actor, Section, Via
from ippproxy.services.admins import MASTER_NAME, Admins, Principal
from ippproxy.services.auditsink import entry
from ippproxy.services.errors import Unavailable
from ippproxy.services.printer_urls import PrinterUrls
from ippproxy.services.throttle import LoginThrottle
from ippproxy.services.tokens import Tokens


@dataclass(frozen=True)
class IppLogin:
    name: str
    admin: bool
    # Admins.credential_stamp: a remembered password login holds only while it is the same
    stamp: str = ""


def throttle_key(name: str) -> str:
    """The throttle's key for a user name as typed (a printable form of a name no one has)."""
    try:
        return canonical_name(name)
    except ValueError:
        return name[:255].encode("unicode_escape").decode("ascii")[:255]


def _login(actor: Actor | None, name: str, stamp: str = "") -> IppLogin | None:
    if actor is None:
        return None
    return IppLogin(name, actor.may(Section.PRINTERS, Access.WRITE), stamp)


class IppLogins:
    """Blocking (database, argon2): the server calls it in a thread."""

    def __init__(self, admins: Admins, tokens: Tokens, throttle: LoginThrottle,
                 urls: PrinterUrls | None = None) -> None:
        self.admins = admins
        self.tokens = tokens
        self.throttle = throttle
        self.urls = urls

    def password(self, user: str, password: str, address: str) -> IppLogin | float | None:
        key = throttle_key(user)
        wait = self.throttle.retry_after(key, address)
        if wait > 0:
            return wait
        try:
            principal = self.admins.authenticate(user, password)
        except Unavailable:
            return None  # the directory is down: not a failed login (logged by the check)
        login = None if principal is None else _login(
            self.admins.actor(principal, Via.IPP), principal.name,
            self.admins.credential_stamp(principal))
        if login is None:
            self._failed(key, address)
            return None
        self.throttle.succeeded(key)
        return login

    def _failed(self, key: str, address: str) -> None:
        self.throttle.failed(key, address)
        who = Actor(key, Via.IPP)
        self.admins.audit.record(entry(who, "ipp.login-failed", f"user:{key}", None,
                                       {"address": address}))
        wait = self.throttle.retry_after(key, address)
        if wait > 0:
            self.admins.audit.record(entry(who, "ipp.lockout", f"user:{key}", None,
                                           {"address": address, "retry_after": round(wait)}))

    def token(self, secret: str) -> IppLogin | None:
        actor = self.tokens.authenticate(secret)
        return _login(actor, actor.name) if actor is not None else None

    def printer_url(self, secret: str) -> IppLogin | None:
        """The owner of a live personal printer URL (printer_urls.py), if still enabled."""
        owner = None if self.urls is None else self.urls.authenticate(secret)
        return None if owner is None else self.current(owner)

    def current(self, name: str) -> IppLogin | None:
        principal = Principal(name, name == MASTER_NAME)
        return _login(self.admins.actor(principal, Via.IPP), name,
                      self.admins.credential_stamp(principal))
