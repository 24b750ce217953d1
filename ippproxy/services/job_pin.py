"""Job PINs (PWG 5100.11 §5.1.7 ``job-password``, §5.1.8 ``job-password-encryption``): the
checks of a PIN sent with a job, and its salted hash (argon2, accounting/users.py), which is
all a job keeps (never the PIN).

The printer advertises ``job-password-supported`` 4 (octets), the repertoire
``iana_us-ascii_digits`` and the encryptions ``none`` (the value is the PIN) and
``sha2-256`` (the value is the SHA-256 of the PIN: 32 octets, or its 64 hex digits as
some clients send it). Both are kept as the argon2 hash of the PIN's SHA-256 hex digest,
so a PIN typed at the release station matches either.
"""

from __future__ import annotations

import hashlib
import string

from ippproxy.accounting.users import hash_secret, verify_secret
from ippproxy.jobs.records import JobRecord
from ippproxy.pipeline.release import PIN_KEY

PIN_LENGTH = 4                            # job-password-supported (octets)
REPERTOIRE = "iana_us-ascii_digits"       # job-password-repertoire-supported
ENCRYPTIONS = ("none", "sha2-256")        # job-password-encryption-supported


class BadPin(ValueError):
    """The job-password (or its encryption) is not one this printer takes; the message
    names the attribute."""


def digest_of(value: bytes, encryption: str) -> str:
    """The PIN's SHA-256 hex digest from the request's job-password, or ``BadPin``."""
    if encryption not in ENCRYPTIONS:
        raise BadPin(f"job-password-encryption must be one of {', '.join(ENCRYPTIONS)}")
    if encryption == "none":
        if len(value) != PIN_LENGTH or not all(chr(b) in string.digits for b in value):
            raise BadPin(f"job-password must be {PIN_LENGTH} digits (0-9)")
        return hashlib.sha256(value).hexdigest()
    if len(value) == 32:
        return value.hex()
    text = value.decode("ascii", "replace").lower()
    if len(text) == 64 and all(c in string.hexdigits for c in text):
        return text
    raise BadPin("job-password with job-password-encryption sha2-256 must be the 32 "
                 "octets of a SHA-256 hash (or its 64 hex digits)")


def hash_pin(digest: str) -> str:
    """The salted hash a job keeps (blocking: argon2)."""
    return hash_secret(digest)


def valid_typed_pin(pin: str) -> bool:
    return len(pin) == PIN_LENGTH and all(c in string.digits for c in pin)


def pin_matches(job: JobRecord, pin: str) -> bool:
    """Whether a PIN typed by a person opens the job (blocking: argon2)."""
    stored = (job.analysis or {}).get(PIN_KEY)
    if not isinstance(stored, str) or not valid_typed_pin(pin):
        return False
    return verify_secret(stored, hashlib.sha256(pin.encode("ascii")).hexdigest())
