"""HTTP authentication of IPP requests (RFC 7617 Basic, RFC 6750 Bearer) against the
authority (``identity.Authority``: users, the master admin, API tokens, the login throttle).

A queue with ``authentication = "basic"`` needs ``Authorization: Basic`` with the password
of a live, enabled user; the authenticated canonical name then owns the job, whatever
``requesting-user-name`` says. On any queue, credentials that come with a request are
checked (an admin proving who they are for Pause-Printer, ...). A queue with
``authentication = "token"`` takes a personal printer URL's secret in the path
(``verify_url``) or the same credentials. Any other scheme, a
malformed header or a wrong password is None (the server answers HTTP 401, CVE-2025-58060:
a scheme we do not run is never accepted).

Theory of operation. Passwords are checked by the authority under the login throttle of
the admin endpoint (``services.throttle``: per user and per address, back-off, lockout
with an audit entry): a throttled attempt is a float, the seconds to wait, and is not
checked at all. argon2 costs CPU, so a success is remembered for ``ttl`` seconds under a
SHA-256 of the header (never the password itself) and the client address; failures are
not remembered. A remembered login is confirmed with ``Authority.current`` on every use
(indexed reads, no argon2): a user disabled or stripped of the admin role loses the
cached login at once, and so does one whose password changed (the login's ``stamp``
differs; the header is then checked again, with argon2, against the new password).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import time
from collections.abc import Iterable

from ippproxy.config import QueueConfig
from ippproxy.server.identity import Authority, Identity, Login

MAX_HEADER = 4096
CACHE_SIZE = 1024
# Queues that accept no request from nobody proven: "basic" (a password over TLS) and
# "token" (a personal printer URL, or a password over TLS).
REQUIRING = frozenset({"basic", "token"})


def requiring(queues: Iterable[QueueConfig]) -> frozenset[str]:
    """The names of the queues that need a proven user."""
    return frozenset(q.name for q in queues if q.authentication in REQUIRING)


def url_queues(queues: Iterable[QueueConfig]) -> frozenset[str]:
    """The "token" queues: the ones that serve personal printer URLs."""
    return frozenset(q.name for q in queues if q.authentication == "token")


def plain_urls(queues: Iterable[QueueConfig]) -> frozenset[str]:
    """The "token" queues whose personal URLs the admin allows over plain ``ipp://``."""
    return frozenset(q.name for q in queues
                     if q.authentication == "token" and q.token_over_ipp)


def parse_basic(header: str | None) -> tuple[str, str] | None:
    """``(user, password)`` from a Basic ``Authorization`` header, else None."""
    if not header or len(header) > MAX_HEADER:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "basic" or not token:
        return None
    try:
        raw = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = raw.partition(":")
    if not sep or not user:
        return None
    return user, password


def parse_bearer(header: str | None) -> str | None:
    """The token of a Bearer ``Authorization`` header (RFC 6750 §2.1), else None."""
    if not header or len(header) > MAX_HEADER:
        return None
    scheme, _, token = header.strip().partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _identity(login: Login | None) -> Identity | None:
    return None if login is None else Identity(login.name, login.admin)


class BasicAuthenticator:
    def __init__(self, queues: Iterable[str], authority: Authority, ttl: float = 60.0,
                 urls: Iterable[str] = (), plain: Iterable[str] = ()) -> None:
        self.queues = frozenset(queues)
        self.urls = frozenset(urls)     # queues that serve personal printer URLs
        self.plain = frozenset(plain)   # ... and allow them over plain ipp://
        self.authority = authority
        self.ttl = ttl
        self._cache: dict[bytes, tuple[str, str, float]] = {}     # name, stamp, until

    def required(self, queue: str) -> bool:
        return queue in self.queues

    def configure(self, queues: Iterable[QueueConfig]) -> None:
        """Take the queues of a new configuration."""
        listed = tuple(queues)
        self.queues, self.urls, self.plain = (requiring(listed), url_queues(listed),
                                              plain_urls(listed))

    async def verify_url(self, secret: str) -> Identity | None:
        """The owner of a live personal printer URL (checked on every request, so that a
        revoked URL proves nobody at once); None: answer 401."""
        return _identity(await asyncio.to_thread(self.authority.printer_url, secret))

    async def verify(self, authorization: str | None, address: str = ""
                     ) -> Identity | float | None:
        """The proven identity; None for no or wrong credentials (answer 401); a float:
        throttled, the seconds to wait (answer 429)."""
        token = parse_bearer(authorization)
        if token is not None:
            return _identity(await asyncio.to_thread(self.authority.token, token))
        creds = parse_basic(authorization)
        if creds is None or authorization is None:
            return None
        key = hashlib.sha256(f"{address}\n{authorization}".encode()).digest()
        hit = self._cache.get(key)
        now = time.monotonic()
        if hit is not None and hit[2] > now:
            current = await asyncio.to_thread(self.authority.current, hit[0])
            if current is None:
                self._cache.pop(key, None)
                return None
            if current.stamp == hit[1]:
                return _identity(current)
            self._cache.pop(key, None)      # the password changed: check this one again
        found = await asyncio.to_thread(self.authority.password, *creds, address)
        if found is None or isinstance(found, float):
            return found
        if len(self._cache) >= CACHE_SIZE:
            self._cache.clear()
        self._cache[key] = (found.name, found.stamp, now + self.ttl)
        return _identity(found)
