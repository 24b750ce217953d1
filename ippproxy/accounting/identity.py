"""Canonical user and group names: the one case policy.

Case policy (CVE-2026-27447, peers.md §3): a name is canonicalised **once**, when
an identity is created or looked up, as ``NFKC(casefold(strip(name)))`` (then NFKC
again, so the result is stable under repeated canonicalisation). ``"ADMIN"``,
``"Admin "`` and ``"admin"`` are therefore the *same* identity: there is never a
second user that differs only in case, so a case variant cannot inherit or steal
another identity's roles, balance or held jobs. Everything after that (ownership,
authorisation, ledger rows) compares the canonical name or, better, the user's
UUID; raw client-supplied names are never compared with each other.

Names that are empty after canonicalisation, longer than 255 characters, or that
contain control characters are rejected with ``ValueError``.
"""

from __future__ import annotations

import os
import pwd
import unicodedata

MAX_NAME = 255


def canonical_name(raw: str) -> str:
    """Return the canonical form of a user or group name, or raise ``ValueError``."""
    if not isinstance(raw, str):
        raise TypeError("a name must be a string")
    if raw.isascii():
        # The same result, cheaper (several lookups a job): NFKC leaves ASCII as it is,
        # casefold is lower(), and ASCII's only Cc/Cf/Zl/Zp characters are C0 and DEL,
        # which isprintable() refuses.
        name = raw.strip().lower()     # (lower() makes no whitespace of ASCII)
        control = not name.isprintable()
    else:
        name = unicodedata.normalize("NFKC",
                                     unicodedata.normalize("NFKC", raw.strip()).casefold())
        name = name.strip()
        control = any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in name)
    if not name:
        raise ValueError("empty name")
    if len(name) > MAX_NAME:
        raise ValueError(f"name longer than {MAX_NAME} characters")
    if control:
        raise ValueError("name contains control characters")
    return name


def os_user() -> str:
    """The login name of the user running this process, from the password database
    (``$USER`` is only a claim, and is missing under cron or ``env -i``); ``uid:N``
    when the uid has no entry there."""
    uid = os.getuid()
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid:{uid}"
