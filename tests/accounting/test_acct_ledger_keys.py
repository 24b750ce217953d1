"""The ledger's idempotency keys (accounting/ledger.py), on SQLite and PostgreSQL: the
same posting again is a replay, and a key reused for a different posting is refused with
nothing written (a job's charge can never be turned into another amount, or moved to
another account, by replaying its key)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import Engine, func, select

from ippproxy.accounting import ledger, users
from ippproxy.accounting.errors import InvalidOperation
from ippproxy.accounting.models import LEDGER

DEFAULTS = users.UserDefaults("EUR", 500, True, 0)


def _accounts(engine: Engine) -> tuple[uuid.UUID, uuid.UUID]:
    with engine.begin() as conn:
        out = []
        for name in ("kim", "lee"):
            uid = users.add_user(conn, name, defaults=DEFAULTS)
            out.append(users.personal_account(conn, uid)._mapping["id"])
    return out[0], out[1]


def _state(engine: Engine, account: uuid.UUID) -> tuple[int, int]:
    with engine.connect() as conn:
        balance = ledger.lock_account(conn, account)._mapping["balance"]
        rows = conn.execute(select(func.count()).select_from(LEDGER)
                            .where(LEDGER.c.account_id == account)).scalar_one()
    return balance, rows


def test_same_posting_again_is_a_replay(engine: Engine) -> None:
    kim, _ = _accounts(engine)
    before = _state(engine, kim)
    for replayed in (False, True):
        with engine.begin() as conn:
            p = ledger.post(conn, kim, -30, kind=ledger.Kind.CHARGE, reason="job",
                            actor="test", key="charge:job-1")
        assert (p.amount, p.replayed) == (-30, replayed)
    assert _state(engine, kim) == (before[0] - 30, before[1] + 1)


@pytest.mark.parametrize("other", ["amount", "account"])
def test_key_reused_for_a_different_posting_is_refused(engine: Engine, other: str) -> None:
    kim, lee = _accounts(engine)
    with engine.begin() as conn:
        ledger.post(conn, kim, -30, kind=ledger.Kind.CHARGE, reason="job", actor="test",
                    key="charge:job-2")
    kim_before, lee_before = _state(engine, kim), _state(engine, lee)
    account, amount = (kim, -300) if other == "amount" else (lee, -30)
    with (pytest.raises(InvalidOperation, match="reused for a different posting"),
          engine.begin() as conn):
        ledger.post(conn, account, amount, kind=ledger.Kind.CHARGE, reason="job",
                    actor="test", key="charge:job-2")
    assert (_state(engine, kim), _state(engine, lee)) == (kim_before, lee_before)
