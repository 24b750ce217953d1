"""Answered account questions after ``kill -9`` (issue 17, services/userside.py): an answer
charges the job, then writes the choice and the release in one commit. The real ``ippproxy
serve`` is killed with SIGKILL right after answers it acknowledged, and once with an answer
cut off between its charge and its write (the charge made through the package's own
``AccountingService.reserve``, as the answer makes it, while the server is down):

* every acknowledged answer prints after the restart, charged once to the chosen account;
* the cut-off one still waits for its answer, its charge reserved; answered again it
  charges nothing more (the charge's key is the job UUID) and prints charged once."""

from __future__ import annotations

import uuid
from pathlib import Path

from support.server import IppProxy
from support.webapi import login, remember_certificate

from ippproxy.accounting import AccountingService
from ippproxy.accounting.cost import JobCounts
from ippproxy.config import load
from ippproxy.db import make_engine
from ippproxy.pipeline.settings import accounting_settings, pricing

from .test_account_answers import Side
from .test_accounting_e2e import EXTRA, Env

PRICE = -15   # a 1-page mono job on the "colour" model: 0.10 + the 0.05 job fee


def test_acknowledged_answers_survive_kill9_and_charge_once(tmp_path: Path) -> None:
    proxy = IppProxy(tmp_path / "srv", queues=[
        {"name": "billed", "cost_model": "colour", "account_required": True}])
    proxy.config_path.write_text(proxy.config_path.read_text() + EXTRA)
    with proxy:
        remember_certificate(proxy)
        env = Env(proxy)
        env.cmd("add-internal-user", "alice", "--password-file", "-", "--group", "staff",
                "--balance", "10.00", stdin="alice-pw\n")
        env.cmd("add-shared-account", "Physics", "physics", "--balance", "20.00")
        env.cmd("grant-account", "--user", "alice", "physics")
        alice = login(proxy.https, "alice", "alice-pw")
        side = Side(env, alice, alice)
        held = [side.held_job() for _ in range(4)]
        for attrs in held[:3]:
            status, body = side.answer(alice, attrs, "physics")
            assert status == 200 and body["account"] == "physics", body
        proxy.kill9()

        # The fourth answer cut off after its charge, before its write (priced as the
        # server prices it: its own configuration).
        cut = held[3]
        config = load(proxy.config_path)
        engine = make_engine(config.storage.database)
        try:
            AccountingService(engine, pricing(config), accounting_settings(config)).reserve(
                uuid.UUID(str(cut["job-uuid"]).removeprefix("urn:uuid:")),
                username="alice", printer="billed", counts=JobCounts.simple(1),
                account_code="physics")
        finally:
            engine.dispose()

        proxy.start()
        for attrs in held[:3]:
            done = env.wait_job("billed", attrs["job-id"], "ippproxy-cost-charged")
            assert done["job-state"] == 9 and done["job-account-id"] == "physics", done
        waiting = env.job("billed", cut["job-id"])
        assert (waiting["job-state"], waiting["job-state-reasons"]) == (
            4, "account-info-needed")
        status, body = side.answer(alice, cut, "physics")
        assert status == 200 and body["account"] == "physics", body
        done = env.wait_job("billed", cut["job-id"], "ippproxy-cost-charged")
        assert done["job-state"] == 9 and done["job-account-id"] == "physics", done
        assert side.charges("physics") == [(PRICE, "charge")] * 4
        for attrs in held:
            rows = env.ledger(str(attrs["job-uuid"]).removeprefix("urn:uuid:"))
            assert [(amount, kind) for amount, _, kind, _ in rows] == [(PRICE, "charge")], rows
        assert "Traceback" not in proxy.log(), proxy.log()[-3000:]
