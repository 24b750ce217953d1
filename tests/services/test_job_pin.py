"""Job PIN hashes (services/job_pin.py): salted (two hashes of one PIN differ), checked by
the PIN typed (in clear or as the client's SHA-256), never matched by a wrong or malformed
PIN or a tampered hash; and the checks of a job-password value."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import pytest

from ippproxy.jobs.records import JobRecord
from ippproxy.jobs.state import JobState
from ippproxy.pipeline.release import PIN_KEY
from ippproxy.services.job_pin import BadPin, digest_of, hash_pin, pin_matches

from .test_release_rules import _job


def _pin_job(stored: str) -> JobRecord:
    return replace(_job(JobState.PENDING_HELD, "job-password-wait"), analysis={PIN_KEY: stored})


def test_salted_and_checked() -> None:
    one, two = hash_pin(digest_of(b"1234", "none")), hash_pin(digest_of(b"1234", "none"))
    assert one != two and "1234" not in one
    assert pin_matches(_pin_job(one), "1234") and pin_matches(_pin_job(two), "1234")
    sha = hash_pin(digest_of(hashlib.sha256(b"1234").digest(), "sha2-256"))
    assert pin_matches(_pin_job(sha), "1234")
    for wrong in ("1235", "123", "12345", "abcd", "１２３４", ""):
        assert not pin_matches(_pin_job(one), wrong)
    scheme, rounds, salt, digest = one.split("$")
    for bad in (f"{scheme}$1${salt}${digest}", f"md5${rounds}${salt}${digest}",
                f"{scheme}${rounds}$zz${digest}", "", "argon2"):
        assert not pin_matches(_pin_job(bad), "1234")


@pytest.mark.parametrize(("value", "encryption"), [
    (b"12a4", "none"), (b"12345", "none"), (b"", "none"), (b"1234", "sha2-512"),
    (b"\x00" * 31, "sha2-256"), (b"g" * 64, "sha2-256")])
def test_bad_values(value: bytes, encryption: str) -> None:
    with pytest.raises(BadPin, match="job-password"):
        digest_of(value, encryption)
