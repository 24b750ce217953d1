"""The TOTP second factor (services/totp.py) on a real database (SQLite and a throwaway
PostgreSQL): the RFC 6238 test vector, enrolment, a code used once, drift, malformed
codes, and turning it off with a code."""

from __future__ import annotations

import time

import pyotp
import pytest
from sqlalchemy import Engine
from support.totp import Authenticator

from ippproxy.services.actor import Actor, Via
from ippproxy.services.auditsink import AuditEntry
from ippproxy.services.errors import Conflict, Invalid
from ippproxy.services.totp import Totp, matching_step

ALICE = Actor("alice", Via.SESSION)


class Recorded:
    def __init__(self) -> None:
        self.entries: list[AuditEntry] = []

    def record(self, entry: AuditEntry) -> None:
        self.entries.append(entry)


def test_the_rfc_6238_vector_and_the_accepted_window() -> None:
    # RFC 6238 Appendix B: SHA-1 key "12345678901234567890", T = 59 s -> 94287082; the
    # six-digit code is its last six digits (RFC 4226 §5.3).
    key = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
    assert matching_step(key, "287082", at=59) == 1
    assert matching_step(key, "287 082", at=59 + 30) == 1     # one step of drift
    assert matching_step(key, "287082", at=59 + 60) is None   # two: too late
    for bad in ("", "28708", "2870822", "28708a", "２８７０８２"):
        assert matching_step(key, bad, at=59) is None


def test_enrol_confirm_use_once_and_turn_off(engine: Engine) -> None:
    audit = Recorded()
    svc = Totp(engine, audit)
    assert not svc.required("alice") and not svc.state(ALICE).enabled
    first = svc.begin(ALICE)
    assert first.uri.startswith("otpauth://totp/ippproxy:alice?secret=" + first.secret)
    assert "issuer=ippproxy" in first.uri and svc.state(ALICE).pending
    again = svc.begin(ALICE)                       # a new pending secret replaces it
    assert again.secret != first.secret
    app = Authenticator(again.secret)
    with pytest.raises(Invalid):
        svc.confirm(ALICE, pyotp.TOTP(first.secret).now())
    assert not svc.required("alice")               # a pending secret asks nothing
    svc.confirm(ALICE, app.code())
    assert svc.required("alice") and svc.state(ALICE).enabled
    with pytest.raises(Conflict):
        svc.begin(ALICE)
    now = app.code()
    assert svc.verify("alice", now)
    assert not svc.verify("alice", now)            # the same code twice: refused
    assert not svc.verify("alice", app.totp.at(time.time() - 30))   # an older step too
    assert not svc.verify("bob", now)              # not bob's
    assert not svc.verify("alice", "abcdef")
    with pytest.raises(Invalid):
        svc.disable(ALICE, app.wrong())
    svc.disable(ALICE, app.code())
    assert not svc.required("alice")
    with pytest.raises(Conflict):
        svc.disable(ALICE, app.totp.now())
    assert [e.action for e in audit.entries] == ["totp.enable", "totp.disable"]
