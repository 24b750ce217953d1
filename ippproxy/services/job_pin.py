"""Job PINs (PWG 5100.11 §5.1.7 ``job-password``, §5.1.8 ``job-password-encryption``): the
checks of a PIN sent with a job, and its salted hash, which is all a job keeps (never the
PIN).

The hash is PBKDF2-HMAC-SHA256 (RFC 8018 §5.2) with a random 16-byte salt and
``ITERATIONS`` rounds, not the users' argon2: a PIN typed at the release station is checked
against every PIN job of that printer, and argon2 at the users' cost took 0.7 s per check on
the loaded test machine (so 20 waiting PIN jobs made a 15 s answer, and each PIN job cost
0.7 s of intake). A 4-digit PIN has 10,000 values: what protects it is the station's
throttle on wrong PINs (services/station.py) and the database's own protection, not the
cost of the hash.

The printer advertises ``job-password-supported`` 4 (octets), the repertoire
``iana_us-ascii_digits`` and the encryptions ``none`` (the value is the PIN) and
``sha2-256`` (the value is the SHA-256 of the PIN: 32 octets, or its 64 hex digits as
some clients send it). Both are kept as the salted hash of the PIN's SHA-256 hex digest,
so a PIN typed at the release station matches either.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import string

from ippproxy.jobs.records import JobRecord
from ippproxy.pipeline.release import PIN_KEY

PIN_LENGTH = 4                            # job-password-supported (octets)
REPERTOIRE = "iana_us-ascii_digits"       # job-password-repertoire-supported
ENCRYPTIONS = ("none", "sha2-256")        # job-password-encryption-supported
SCHEME = "pbkdf2-sha256"
ITERATIONS = 20000


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


def _derive(digest: str, salt: bytes, rounds: int) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", digest.encode("ascii"), salt, rounds)


def hash_pin(digest: str) -> str:
    """The salted hash a job keeps, ``pbkdf2-sha256$ROUNDS$SALT$HASH`` (hex)."""
    salt = os.urandom(16)
    return f"{SCHEME}${ITERATIONS}${salt.hex()}${_derive(digest, salt, ITERATIONS).hex()}"


def _verify(stored: str, digest: str) -> bool:
    parts = stored.split("$")
    if len(parts) != 4 or parts[0] != SCHEME or not parts[1].isdigit():
        return False
    rounds = int(parts[1])
    if not 1000 <= rounds <= 10_000_000:
        return False
    try:
        salt, expected = bytes.fromhex(parts[2]), bytes.fromhex(parts[3])
    except ValueError:
        return False
    return hmac.compare_digest(_derive(digest, salt, rounds), expected)


def valid_typed_pin(pin: str) -> bool:
    return len(pin) == PIN_LENGTH and all(c in string.digits for c in pin)


def pin_matches(job: JobRecord, pin: str) -> bool:
    """Whether a PIN typed by a person opens the job (blocking: a few ms)."""
    stored = (job.analysis or {}).get(PIN_KEY)
    if not isinstance(stored, str) or not valid_typed_pin(pin):
        return False
    return _verify(stored, hashlib.sha256(pin.encode("ascii")).hexdigest())
