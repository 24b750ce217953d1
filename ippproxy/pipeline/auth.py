"""HTTP Basic authentication per queue (RFC 7617) against the user store (argon2).

A queue with ``authentication = "basic"`` needs ``Authorization: Basic`` with the
password of a live, enabled user; the authenticated canonical name then owns the job,
whatever ``requesting-user-name`` says. Any other scheme, a malformed header or a wrong
password is None (the server answers HTTP 401, CVE-2025-58060: a scheme we do not run is
never accepted). argon2 costs tens of milliseconds of CPU, so it runs in a thread and a
success is remembered for ``ttl`` seconds under a SHA-256 of the header (never the
password itself); failures are not remembered.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import time

from ippproxy.accounting import AccountingService
from ippproxy.accounting import users as acct_users
from ippproxy.accounting.identity import canonical_name
from ippproxy.accounting.txn import in_transaction
from ippproxy.config import Config

MAX_HEADER = 4096
CACHE_SIZE = 1024


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


class BasicAuthenticator:
    """The server's ``Authenticator`` (server/hooks.py)."""

    def __init__(self, config: Config, accounting: AccountingService, ttl: float = 60.0) -> None:
        self.queues = frozenset(q.name for q in config.queues if q.authentication == "basic")
        self.accounting = accounting
        self.ttl = ttl
        self._cache: dict[bytes, tuple[str, float]] = {}

    def required(self, queue: str) -> bool:
        return queue in self.queues

    async def verify(self, authorization: str | None) -> str | None:
        creds = parse_basic(authorization)
        if creds is None:
            return None
        key = hashlib.sha256(authorization.encode() if authorization else b"").digest()
        hit = self._cache.get(key)
        now = time.monotonic()
        if hit is not None and hit[1] > now:
            return hit[0]
        user, password = creds
        try:
            name = canonical_name(user)
        except ValueError:
            return None
        uid = await asyncio.to_thread(
            in_transaction, self.accounting.engine,
            lambda c: acct_users.authenticate(c, name, password))
        if uid is None:
            return None
        if len(self._cache) >= CACHE_SIZE:
            self._cache.clear()
        self._cache[key] = (name, now + self.ttl)
        return name
