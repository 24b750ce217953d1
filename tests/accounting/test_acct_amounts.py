"""Amounts people type (issue 14 §4): ASCII digits only, bounded so that int64 minor units
never overflow, and no adjustment below a restricted account's credit limit unless an
overdraft is allowed (and recorded). The command tool, end to end on a real database."""

from __future__ import annotations

import json
import tomllib
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, update

from ippproxy.accounting import admin
from ippproxy.accounting.cmd import main
from ippproxy.accounting.cost import parse_amount
from ippproxy.accounting.errors import InvalidOperation
from ippproxy.accounting.models import ACCOUNTS
from ippproxy.accounting.money import (
    MAX_AMOUNT,
    MAX_BALANCE,
    check_amount,
    parse_decimal,
    parse_money,
)
from ippproxy.accounting.txn import in_transaction
from ippproxy.config import ConfigError, from_dict
from ippproxy.db import make_engine
from ippproxy.pipeline.settings import minor, minor_int

INT64_MAX = 2**63 - 1
BAD_AMOUNTS = ["99999999999999999999.00", str(INT64_MAX + 1), f"-{INT64_MAX + 1}",
               "9223372036854775807", "10000000000000.00", "１０", "1０", "٣", "1e3",
               "1_000", " 1 0", "0x10", "1.", ".5", "+-1", "1.234"]


def test_parse_money_ascii_digits_and_bounds() -> None:
    assert parse_money("10") == 1000
    assert parse_money(" -12.34 ") == -1234
    assert parse_money("+0.5") == 50
    assert parse_money("9999999999999.99") == MAX_AMOUNT
    assert parse_money("-9999999999999.99") == -MAX_AMOUNT
    assert parse_money("999999999999999", 0) == MAX_AMOUNT
    for bad in BAD_AMOUNTS + ["١٠", "10.5\u0663", "1 0"]:
        with pytest.raises(ValueError) as e:
            parse_money(bad)
        assert "\n" not in str(e.value)
    with pytest.raises(ValueError, match="above the maximum 9999999999999.99"):
        parse_money("10000000000000")
    with pytest.raises(ValueError, match="at most 0 decimals"):
        parse_money("1.5", 0)


def test_decimals_for_prices_are_ascii_only() -> None:
    assert parse_decimal("0.035") == Fraction(7, 200)
    assert parse_amount("3") == 3
    for bad in ("３", "0.０5", "1e3", "-1", "", "1" * 41):
        with pytest.raises(ValueError):
            parse_decimal(bad)
    with pytest.raises(ValueError, match="above the maximum"):
        minor("99999999999999", 2)
    with pytest.raises(ValueError, match="credit_limit: amount"):
        minor_int("10000000000000", 2, "credit_limit")
    assert minor("0.035", 2) == Fraction(7, 2)


@pytest.mark.parametrize("value", ["１０", "99999999999999999999.00", "1٠"])
def test_config_refuses_non_ascii_and_huge_amounts(value: str) -> None:
    with pytest.raises(ConfigError) as e:
        from_dict(tomllib.loads(f'[accounting]\ncredit_limit = "{value}"\n'))
    assert e.value.key == "accounting.credit_limit"
    assert from_dict(tomllib.loads('[accounting]\ncredit_limit = "9999999999999.99"\n'))


def run(url: str, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, Any, str]:
    code = main(["--database", url, "--json", *args])
    captured = capsys.readouterr()
    return code, json.loads(captured.out) if captured.out.strip() else None, captured.err


def state(url: str, capsys: pytest.CaptureFixture[str]) -> Any:
    users = run(url, capsys, "list-users")[1]
    ledger = run(url, capsys, "list-transactions", "--limit", "1000")[1]
    return users, ledger


@pytest.fixture
def tool(db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    pw = tmp_path / "pw"
    pw.write_text("correct horse battery\n")
    assert run(db_url, capsys, "add-internal-user", "jane", "--password-file", str(pw),
               "--balance", "3.00", "--credit-limit", "1.00")[0] == 0
    assert run(db_url, capsys, "add-shared-account", "Lab", "LAB", "--balance", "5",
               "--unrestricted")[0] == 0
    return db_url


@pytest.mark.parametrize("command", ["adjust-balance", "set-credit-limit"])
def test_bad_amounts_exit_1_with_one_line_and_change_nothing(
        tool: str, capsys: pytest.CaptureFixture[str], command: str) -> None:
    before = state(tool, capsys)
    extra = ["--reason", "audit"] if command == "adjust-balance" else []
    for who in (["--user", "jane"], ["--account", "LAB"]):
        for amount in BAD_AMOUNTS:
            code, out, err = run(tool, capsys, command, *who, *extra, "--", amount)
            assert code == 1, (command, amount, out, err)
            assert set(out) == {"error"} and out["error"] and "\n" not in out["error"], out
            assert "Traceback" not in err
    for amount in BAD_AMOUNTS[:3]:
        # Without --json: one line on stderr, nothing on stdout.
        code = main(["--database", tool, command, "--user", "jane", *extra, "--", amount])
        captured = capsys.readouterr()
        assert code == 1 and captured.out == ""
        assert captured.err.count("\n") == 1 and captured.err.startswith("ippproxy cmd: ")
    assert state(tool, capsys) == before


def test_a_balance_past_the_maximum_is_refused(tool: str,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(tool, capsys, "adjust-balance", "--account", "LAB",
                       "9999999999999.99", "--reason", "the largest amount")
    assert code == 0 and out["balance_after"] == 500 + MAX_AMOUNT
    engine = make_engine(tool)
    try:
        def near_max(conn: Connection) -> None:
            # A balance a few cents under MAX_BALANCE, as if many adjustments had come
            # before (an opening balance keeps opening + ledger == balance).
            acct = admin.account_of(conn, code="LAB")._mapping["id"]
            conn.execute(update(ACCOUNTS).where(ACCOUNTS.c.id == acct).values(
                balance=MAX_BALANCE - 10, opening_balance=MAX_BALANCE - 10 - 500 - MAX_AMOUNT))
            assert admin.adjust_balance(conn, acct, 10, reason="r", actor="t").balance_after \
                == MAX_BALANCE
            with pytest.raises(InvalidOperation, match="beyond the maximum"):
                admin.adjust_balance(conn, acct, 1, reason="r", actor="t")
            raise _Rollback
        with pytest.raises(_Rollback):
            in_transaction(engine, near_max)
    finally:
        engine.dispose()
    with pytest.raises(ValueError, match="above the maximum"):
        check_amount(MAX_AMOUNT + 1)


class _Rollback(Exception):
    pass


def test_adjustment_below_the_credit_limit_needs_allow_overdraft(
        tool: str, capsys: pytest.CaptureFixture[str]) -> None:
    before = state(tool, capsys)
    # jane: restricted, balance 3.00, credit limit 1.00: down to -1.00 is allowed.
    code, out, _ = run(tool, capsys, "adjust-balance", "--user", "jane", "-4.01",
                       "--reason", "damaged toner")
    assert code == 1 and "below the credit limit" in out["error"]
    assert "-1.01 EUR" in out["error"]
    assert state(tool, capsys) == before
    code, out, _ = run(tool, capsys, "adjust-balance", "--user", "jane", "-4.00",
                       "--reason", "to the limit")
    assert code == 0 and out["balance_after"] == -100 and "overdraft" not in out["reason"]
    code, out, _ = run(tool, capsys, "adjust-balance", "--user", "jane", "-2.00",
                       "--reason", "damaged toner", "--allow-overdraft", "--key", "t1")
    assert code == 0 and out["balance_after"] == -300
    assert out["reason"].startswith("damaged toner (overdraft allowed: balance -3.00 EUR")
    ledger = run(tool, capsys, "list-transactions", "--user", "jane")[1]
    assert ledger[0]["reason"] == out["reason"]
    # The retried command replays (no second debit, no refusal).
    code, again, _ = run(tool, capsys, "adjust-balance", "--user", "jane", "-2.00",
                         "--reason", "damaged toner", "--key", "t1")
    assert code == 0 and again["replayed"] and again["balance_after"] == -300
    # Credits, and unrestricted accounts, are never refused.
    assert run(tool, capsys, "adjust-balance", "--user", "jane", "0.50",
               "--reason", "back")[0] == 0
    code, out, _ = run(tool, capsys, "adjust-balance", "--account", "LAB", "-100",
                       "--reason", "unrestricted")
    assert code == 0 and out["balance_after"] == 500 - 10000
