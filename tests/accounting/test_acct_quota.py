"""Scheduled allocations: once per period, capped, across "restarts"."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine

from ippproxy.accounting import ledger, users
from ippproxy.accounting.quota import Period, apply_quotas, period_id

T0 = dt.datetime(2024, 5, 6, 8, 0, tzinfo=dt.UTC)  # a Monday


def test_period_ids() -> None:
    assert period_id(Period.DAILY, T0) == "2024-05-06"
    assert period_id(Period.WEEKLY, T0) == "2024-W19"
    assert period_id(Period.MONTHLY, T0) == "2024-05"
    assert period_id(Period.WEEKLY, dt.datetime(2021, 1, 3, tzinfo=dt.UTC)) == "2020-W53"


def bal(engine: Engine, name: str) -> int:
    with engine.begin() as conn:
        uid = users.get_user(conn, name)._mapping["id"]
        value: int = users.personal_account(conn, uid)._mapping["balance"]
        return value


def test_once_per_period_with_cap(engine: Engine) -> None:
    with engine.begin() as conn:
        users.add_group(conn, "students", quota_period="weekly", quota_amount=200,
                        quota_cap=500)
        users.add_group(conn, "staff", quota_period="daily", quota_amount=100)
        users.add_group(conn, "idle")
        d = users.UserDefaults("EUR")
        users.add_user(conn, "ann", defaults=d, groups=("students",))
        users.add_user(conn, "ben", defaults=users.UserDefaults("EUR", 450), groups=("students",))
        users.add_user(conn, "cat", defaults=d, groups=("staff", "students"))
        users.add_user(conn, "dan", defaults=d, groups=("idle",))
    first = apply_quotas(engine, T0)
    assert sorted((a.group, a.amount) for a in first) == [
        ("staff", 100), ("students", 50), ("students", 200), ("students", 200)]
    # A restart in the same period (new call, later that day) changes nothing.
    again = apply_quotas(engine, T0 + dt.timedelta(hours=5))
    assert all(a.replayed for a in again) and len(again) == 4
    assert (bal(engine, "ann"), bal(engine, "ben"), bal(engine, "cat"), bal(engine, "dan")) == (
        200, 500, 300, 0)
    # Next day: only the daily group; next week: the weekly one again, capped.
    apply_quotas(engine, T0 + dt.timedelta(days=1))
    assert bal(engine, "cat") == 400
    apply_quotas(engine, T0 + dt.timedelta(days=7))
    assert (bal(engine, "ann"), bal(engine, "ben"), bal(engine, "cat")) == (400, 500, 500)
    with engine.begin() as conn:
        assert ledger.audit(conn) == []
