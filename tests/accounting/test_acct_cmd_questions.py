"""Issue 14 §5: the questions an operator asks ``ippproxy cmd --config FILE``, on SQLite and
PostgreSQL: the installed command in a process of its own for the step that proves each
item, the command's ``main`` in this process for the others (the same code path without a
second start-up each, as in tests/services/test_cmd.py):
one account's state, the ledger by account name with paging and filters, a refund by the
job's queue and job-id, the configuration's minor unit in every amount, UTC timestamps
with their offset, and the OS user as the ledger's actor. A refused command exits 1 with
one line (an ``{"error": ...}`` object with ``--json``) and changes nothing."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import pwd
import re
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from support.cmd import run_cmd
from support.server import ippproxy_command

from ippproxy.accounting.cost import CostModel, JobCounts, MediaPrice, Pricing
from ippproxy.accounting.models import ACCOUNTS, LEDGER
from ippproxy.accounting.service import AccountingService
from ippproxy.accounting.settings import AccountingSettings
from ippproxy.db import make_engine, upgrade
from ippproxy.jobs.store import JobStore

OS_USER = pwd.getpwuid(os.getuid()).pw_name


class Tool:
    """``ippproxy cmd --config FILE --json ...``: a subprocess with ``proc=True`` (or an
    environment of its own), else ``ippproxy.cli.main`` in this process."""

    def __init__(self, tmp_path: Path, url: str, currency: str, digits: int) -> None:
        self.url, self.currency, self.digits = url, currency, digits
        self.config = tmp_path / "ippproxy.toml"
        self.config.write_text(f"""
[storage]
database = "{url}"
spool = "{tmp_path / 'spool'}"
[accounting]
currency = "{currency}"
minor_unit_digits = {digits}
""")
        self.cwd = tmp_path

    def raw(self, *args: str, env: dict[str, str] | None = None, json_out: bool = True,
            proc: bool = False) -> subprocess.CompletedProcess[str]:
        argv = ["--config", str(self.config), *(["--json"] if json_out else []), *args]
        if proc or env is not None:
            return subprocess.run([*ippproxy_command(), "cmd", *argv], cwd=self.cwd,
                                  capture_output=True, text=True, timeout=120, check=False,
                                  env=env)
        return run_cmd(argv)

    def ok(self, *args: str, proc: bool = False) -> Any:
        r = self.raw(*args, proc=proc)
        assert r.returncode == 0, (args, r.stdout, r.stderr)
        return json.loads(r.stdout)

    def refused(self, *args: str, proc: bool = False) -> str:
        """Exit 1, one line of JSON with the reason, and nothing changed."""
        before = self.snapshot()
        r = self.raw(*args, proc=proc)
        assert r.returncode == 1, (args, r.stdout, r.stderr)
        assert r.stdout.count("\n") == 1 and "Traceback" not in r.stderr, r
        error = json.loads(r.stdout)["error"]
        assert error and "\n" not in error
        assert self.snapshot() == before, args
        return str(error)

    def snapshot(self) -> tuple[list[Any], list[Any]]:
        engine = make_engine(self.url)
        try:
            with engine.connect() as conn:
                accounts = [tuple(r) for r in conn.execute(
                    select(ACCOUNTS.c.id, ACCOUNTS.c.balance, ACCOUNTS.c.credit_limit,
                           ACCOUNTS.c.restricted).order_by(ACCOUNTS.c.id))]
                ledger = [tuple(r) for r in conn.execute(
                    select(LEDGER.c.id, LEDGER.c.amount).order_by(LEDGER.c.id))]
            return accounts, ledger
        finally:
            engine.dispose()

    def printed_job(self, username: str, pages: int, queue: str = "office") -> Any:
        """A job in the job store, charged and settled at 1 minor unit per page."""
        engine = make_engine(self.url)
        upgrade(engine)

        async def create() -> Any:
            async with JobStore(engine) as store:
                return await store.create_job(queue, owner=username)
        try:
            job = asyncio.run(create())
            price = CostModel(default=MediaPrice(mono=1))  # type: ignore[arg-type]
            svc = AccountingService(engine, Pricing(default=price),
                                    AccountingSettings(self.currency, self.digits))
            svc.reserve(uuid.UUID(job.uuid), username=username, printer=queue,
                        counts=JobCounts.simple(pages))
            svc.settle(uuid.UUID(job.uuid))
            return job
        finally:
            engine.dispose()


def utc(text: str) -> dt.datetime:
    assert text.endswith("+00:00"), text
    value = dt.datetime.fromisoformat(text)
    assert value.utcoffset() == dt.timedelta(0)
    return value


@pytest.fixture
def tool(db_url: str, tmp_path: Path) -> Tool:
    t = Tool(tmp_path, db_url, "EUR", 2)
    (tmp_path / "pw").write_text("correct horse battery\n")
    t.ok("add-internal-user", "jane", "--password-file", str(tmp_path / "pw"),
         "--balance", "3.00", "--credit-limit", "1.00")
    t.ok("add-shared-account", "Physics lab", "LAB", "--balance", "5")
    return t


def test_show_account_of_a_user_and_of_a_shared_account(tool: Tool) -> None:
    tool.ok("adjust-balance", "--user", "jane", "2.50", "--reason", "top-up")
    tool.ok("adjust-balance", "--account", "LAB", "-1.00", "--reason", "toner")
    jane = tool.ok("show-account", "--user", "JANE", proc=True)
    assert {k: jane[k] for k in ("account", "account_type", "currency", "balance",
                                 "credit_limit", "restricted", "available")} == {
        "account": "jane", "account_type": "user", "currency": "EUR", "balance": 550,
        "credit_limit": 100, "restricted": True, "available": 650}
    utc(jane["created_at"])
    assert [(t["kind"], t["amount"], t["reason"]) for t in jane["transactions"]] == [
        ("adjust", 250, "top-up"), ("initial", 300, "initial balance")]
    assert all(t["account"] == "jane" for t in jane["transactions"])
    lab = tool.ok("show-account", "--account", "LAB", "--last", "1")
    # A shared account is restricted by default, like a user.
    assert (lab["account"], lab["account_type"], lab["account_name"], lab["balance"],
            lab["restricted"], lab["available"]) == ("LAB", "shared", "Physics lab", 400,
                                                     True, 400)
    assert [t["reason"] for t in lab["transactions"]] == ["toner"]
    tool.ok("add-shared-account", "Open", "OPEN", "--unrestricted")
    assert tool.ok("show-account", "--account", "OPEN")["restricted"] is False
    r = tool.raw("show-account", "--user", "jane", json_out=False, proc=True)  # for people
    assert r.returncode == 0 and re.search(r"^balance: +5\.50 EUR$", r.stdout, re.MULTILINE), r.stdout
    assert re.search(r"^transactions:\n +id +account +amount +balance_after +kind +reason", r.stdout, re.MULTILINE)
    assert re.search(r"^ +\d+  jane +2\.50 EUR +5\.50 EUR  adjust +top-up ", r.stdout, re.MULTILINE), r.stdout
    assert "unknown user 'ghost'" in tool.refused("show-account", "--user", "ghost",
                                                  proc=True)
    assert "unknown shared account" in tool.refused("show-account", "--account", "NOPE")
    assert "--last" in tool.refused("show-account", "--user", "jane", "--last", "-1")


def test_list_transactions_names_accounts_newest_first_with_paging(tool: Tool) -> None:
    for n in range(1, 5):
        tool.ok("adjust-balance", "--user", "jane", f"0.0{n}", "--reason", f"r{n}")
    tool.ok("adjust-balance", "--account", "LAB", "-0.10", "--reason", "lab")
    every = tool.ok("list-transactions", proc=True)
    ids = [t["id"] for t in every]
    assert ids == sorted(ids, reverse=True) and len(ids) == 7
    assert [(t["account"], t["account_type"]) for t in every[:2]] == [
        ("LAB", "shared"), ("jane", "user")]
    assert all(t["account"] in ("jane", "LAB") for t in every)   # names, never UUIDs
    times = [utc(t["created_at"]) for t in every]
    assert times == sorted(times, reverse=True)
    # Pages of 3, each starting --before the last id shown: every row once.
    pages, before = [], None
    while True:
        page = tool.ok("list-transactions", "--limit", "3",
                       *(["--before", str(before)] if before else []))
        if not page:
            break
        pages.append([t["id"] for t in page])
        before = page[-1]["id"]
    assert [len(p) for p in pages] == [3, 3, 1] and [i for p in pages for i in p] == ids
    # Filters: account, kind, and a time window (an offset other than UTC is converted).
    jane = tool.ok("list-transactions", "--user", "jane", "--kind", "adjust")
    assert [t["reason"] for t in jane] == ["r4", "r3", "r2", "r1"]
    middle = every[3]
    local = utc(middle["created_at"]).astimezone(dt.timezone(dt.timedelta(hours=2)))
    since = tool.ok("list-transactions", "--since", local.isoformat())
    assert [t["id"] for t in since] == [t["id"] for t in every
                                        if utc(t["created_at"]) >= utc(middle["created_at"])]
    until = tool.ok("list-transactions", "--until", middle["created_at"], "--kind",
                    "initial")
    assert {t["account"] for t in until} == {"jane", "LAB"}
    assert tool.ok("list-transactions", "--since", "2999-01-01") == []
    for bad in (["--kind", "bribe"], ["--since", "yesterday"], ["--limit", "0"],
                ["--limit", "１０"], ["--before", "-3"], ["--job", "not-a-uuid"],
                ["--since", "2024-02-01", "--until", "2024-01-01"]):
        tool.refused("list-transactions", *bad)


def test_refund_job_by_queue_and_job_id_by_uri_and_by_uuid(tool: Tool) -> None:
    tool.printed_job("jane", 2)
    job = tool.printed_job("jane", 40)         # job-id 2 on queue office
    assert job.job_id == 2
    out = tool.ok("refund-job", "--queue", "office", "--job-id", "2", "--amount", "0.10",
                  "--reason", "jammed", proc=True)
    assert (out["job"], out["charged"], out["refunded"]) == (job.uuid, 30, 10)  # net
    out = tool.ok("refund-job", "ipp://print.example:631/jobs/office/2", "--amount", "0.05",
                  "--reason", "smudged")
    assert (out["charged"], out["refunded"]) == (25, 15)
    out = tool.ok("refund-job", job.uuid, "--reason", "the rest")
    assert (out["charged"], out["refunded"]) == (0, 40)
    refunds = tool.ok("list-transactions", "--job", job.uuid, "--kind", "refund")
    assert [t["amount"] for t in refunds] == [25, 5, 10]
    assert "no job 9 on queue 'office'" in tool.refused(
        "refund-job", "--queue", "office", "--job-id", "9", "--reason", "x", proc=True)
    assert "no job 1 on queue 'lobby'" in tool.refused(
        "refund-job", "--queue", "lobby", "--job-id", "1", "--reason", "x")
    for bad in (["--queue", "office", "--job-id", "two"], ["--queue", "office"],
                ["ipp://h/printers/office", ], ["ipp://h/jobs/office/0"],
                [job.uuid, "--queue", "office", "--job-id", "2"], ["12"],
                ["--queue", "office", "--job-id", "1", "--amount", "0.001"]):
        tool.refused("refund-job", *bad, "--reason", "x")


def test_every_amount_in_the_configured_minor_unit(db_url: str, tmp_path: Path) -> None:
    tool = Tool(tmp_path, db_url, "JPY", 0)
    (tmp_path / "pw").write_text("pw-pw-pw-pw\n")
    tool.ok("add-group", "staff", "--initial-balance", "7", "--quota-period", "monthly",
            "--quota-amount", "4", "--quota-cap", "20")
    tool.ok("add-internal-user", "ken", "--password-file", str(tmp_path / "pw"),
            "--balance", "5", "--credit-limit", "2", "--group", "staff", proc=True)
    tool.ok("add-shared-account", "Lab", "LAB", "--balance", "5", "--credit-limit", "1")
    tool.ok("adjust-balance", "--user", "ken", "5", "--reason", "top-up")
    tool.ok("set-credit-limit", "--account", "LAB", "3")
    ken = tool.ok("show-account", "--user", "ken")
    assert (ken["currency"], ken["balance"], ken["credit_limit"]) == ("JPY", 10, 2)
    lab = tool.ok("show-account", "--account", "LAB")
    assert (lab["currency"], lab["balance"], lab["credit_limit"]) == ("JPY", 5, 3)
    quota = tool.ok("apply-quotas", "--now", "2026-12-02T10:00:00Z")
    assert [(q["group"], q["amount"]) for q in quota] == [("staff", 4)]
    job = tool.printed_job("ken", 3)
    out = tool.ok("refund-job", job.uuid, "--amount", "2", "--reason", "misprint")
    assert (out["charged"], out["refunded"], out["balance"]) == (1, 2, 13)
    # --database on the line too: still the configuration's minor unit.
    r = tool.raw("--database", db_url, "adjust-balance", "--user", "ken", "5", "--reason",
                 "again", proc=True)
    assert r.returncode == 0 and json.loads(r.stdout)["amount"] == 5, r.stderr
    r = tool.raw("show-account", "--user", "ken", "--last", "0", json_out=False)
    assert re.search(r"^balance: +18 JPY$", r.stdout, re.MULTILINE), r.stdout
    assert re.search(r"^credit_limit: +2 JPY$", r.stdout, re.MULTILINE), r.stdout
    for args in (["adjust-balance", "--user", "ken", "1.5", "--reason", "x"],
                 ["set-credit-limit", "--user", "ken", "0.5"],
                 ["refund-job", job.uuid, "--amount", "0.5", "--reason", "x"]):
        assert "at most 0 decimals" in tool.refused(*args, proc=args[0] == "refund-job")


def test_the_actor_is_the_os_user_and_times_carry_their_offset(tool: Tool) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("USER", "LOGNAME", "USERNAME")}
    r = tool.raw("adjust-balance", "--user", "jane", "1", "--reason", "no $USER", env=env)
    assert r.returncode == 0 and json.loads(r.stdout)["actor"] == f"cmd:{OS_USER}", r
    claimed = {**env, "USER": "mallory", "LOGNAME": "mallory"}
    r = tool.raw("adjust-balance", "--user", "jane", "1", "--reason", "claimed", env=claimed)
    assert json.loads(r.stdout)["actor"] == f"cmd:{OS_USER}"
    assert utc(json.loads(r.stdout)["created_at"])
    r = tool.raw("option", "set", "accounting.unknown_users", "refuse", env=claimed)
    assert r.returncode == 0, r.stderr
    audit = tool.ok("audit")
    assert audit[0]["actor"] == f"cmd:{OS_USER}"
    assert all(v.endswith("+00:00") for row in audit for k, v in row.items()
               if k.endswith("_at") or k == "at")
