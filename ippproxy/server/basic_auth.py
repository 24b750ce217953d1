"""HTTP Basic authentication per queue (RFC 7617) against the user store.

A queue with ``authentication = "basic"`` needs ``Authorization: Basic`` with the
password of a live, enabled user; the authenticated canonical name then owns the job,
whatever ``requesting-user-name`` says. Any other scheme, a malformed header or a wrong
password is None (the server answers HTTP 401, CVE-2025-58060: a scheme we do not run is
never accepted). The user store verifies the password (argon2: tens of milliseconds of
CPU), so that runs in a thread, and a success is remembered for ``ttl`` seconds under a
SHA-256 of the header (never the password itself); failures are not remembered.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import time
from collections.abc import Iterable
from typing import Protocol

MAX_HEADER = 4096
CACHE_SIZE = 1024


class PasswordCheck(Protocol):
    """The user store (``AccountingService.verify_password``): the canonical name when
    the password is right, else None. Blocking."""

    def verify_password(self, username: str, password: str) -> str | None: ...


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
    def __init__(self, queues: Iterable[str], users: PasswordCheck, ttl: float = 60.0) -> None:
        self.queues = frozenset(queues)
        self.users = users
        self.ttl = ttl
        self._cache: dict[bytes, tuple[str, float]] = {}

    def required(self, queue: str) -> bool:
        return queue in self.queues

    async def verify(self, authorization: str | None) -> str | None:
        """The canonical user name for valid credentials, else None (answer 401)."""
        creds = parse_basic(authorization)
        if creds is None or authorization is None:
            return None
        key = hashlib.sha256(authorization.encode()).digest()
        hit = self._cache.get(key)
        now = time.monotonic()
        if hit is not None and hit[1] > now:
            return hit[0]
        name = await asyncio.to_thread(self.users.verify_password, *creds)
        if name is None:
            return None
        if len(self._cache) >= CACHE_SIZE:
            self._cache.clear()
        self._cache[key] = (name, now + self.ttl)
        return name
