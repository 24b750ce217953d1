"""HTTP Basic per queue (server/basic_auth.py) against the real user store (argon2)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest

from ippproxy.accounting import AccountingService, Pricing, users
from ippproxy.accounting.txn import in_transaction
from ippproxy.db import make_engine, upgrade
from ippproxy.server.basic_auth import BasicAuthenticator, parse_basic


@pytest.fixture
def accounting(tmp_path: Path) -> Iterator[AccountingService]:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    upgrade(engine)
    yield AccountingService(engine, Pricing())
    engine.dispose()


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _add(accounting: AccountingService, name: str, password: str, *,
         disabled: bool = False) -> None:
    defaults = users.UserDefaults("EUR", 0, True, 0)
    in_transaction(accounting.engine, lambda c: users.add_user(
        c, name, defaults=defaults, internal=True, password=password))
    if disabled:
        in_transaction(accounting.engine,
                       lambda c: users.set_user_property(c, name, "disabled", "true"))


async def test_basic_authentication(accounting: AccountingService) -> None:
    _add(accounting, "Alice", "s3cret")
    _add(accounting, "olga", "s3cret", disabled=True)
    auth = BasicAuthenticator(["secure"], accounting)
    assert auth.required("secure") and not auth.required("colour")
    assert await auth.verify(_basic("ALICE", "s3cret")) == "alice"   # canonical name
    assert await auth.verify(_basic("alice", "s3cret")) == "alice"   # (cached)
    assert await auth.verify(_basic("alice", "wrong")) is None
    assert await auth.verify(_basic("nobody", "s3cret")) is None
    assert await auth.verify(_basic("olga", "s3cret")) is None        # disabled
    assert await auth.verify("Bearer abc") is None
    assert await auth.verify("Digest username=\"alice\"") is None
    assert await auth.verify("Basic !!!") is None
    assert await auth.verify(None) is None


async def test_a_success_is_remembered_and_a_failure_is_not(
        accounting: AccountingService) -> None:
    _add(accounting, "bob", "pw")
    auth = BasicAuthenticator(["q"], accounting)
    assert await auth.verify(_basic("bob", "nope")) is None
    assert auth._cache == {}
    assert await auth.verify(_basic("bob", "pw")) == "bob"
    assert len(auth._cache) == 1
    assert all(b"pw" not in k for k in auth._cache)                   # a digest, not the header


def test_parse_basic() -> None:
    assert parse_basic(_basic("u", "p:q")) == ("u", "p:q")
    assert parse_basic(_basic("", "p")) is None
    assert parse_basic("Basic " + base64.b64encode(b"nocolon").decode()) is None
    assert parse_basic("Basic " + "A" * 5000) is None
    assert parse_basic("basic " + base64.b64encode(b"u:p").decode()) == ("u", "p")
