"""The server command tool, end to end on a real database (``main(argv)``)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from ippproxy.accounting.cmd import main
from ippproxy.accounting.cost import CostModel, JobCounts, MediaPrice, Pricing
from ippproxy.accounting.service import AccountingService
from ippproxy.db import make_engine


def run(url: str, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, Any]:
    code = main(["--database", url, "--json", *args])
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else None


def test_cmd_workflow(db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pw = tmp_path / "pw"
    pw.write_text("correct horse battery\n")
    code, out = run(db_url, capsys, "add-group", "Students", "--initial-balance", "2.00",
                    "--quota-period", "weekly", "--quota-amount", "1.00", "--quota-cap", "5")
    assert code == 0 and out["name"] == "students"
    code, out = run(db_url, capsys, "add-internal-user", "Jane", "--password-file", str(pw),
                    "--full-name", "Jane Doe", "--group", "students", "--balance", "3.50")
    assert code == 0 and out["username"] == "jane"
    code, out = run(db_url, capsys, "add-internal-user", "JANE", "--password-file", str(pw))
    assert code == 1 and "exists" in out["error"]
    assert run(db_url, capsys, "set-user-property", "jane", "email", "jane@example.org")[0] == 0
    assert run(db_url, capsys, "set-user-property", "jane", "restricted", "maybe")[0] == 1
    code, out = run(db_url, capsys, "adjust-balance", "--user", "jane", "-1.25",
                    "--reason", "correction", "--key", "k1")
    assert code == 0 and (out["amount"], out["balance_after"]) == (-125, 225)
    code, out = run(db_url, capsys, "adjust-balance", "--user", "jane", "-1.25",
                    "--reason", "correction", "--key", "k1")
    assert code == 0 and out["replayed"] and out["balance_after"] == 225
    assert run(db_url, capsys, "adjust-balance", "--user", "jane", "1",
                  "--reason", " ")[0] == 1
    assert run(db_url, capsys, "adjust-balance", "--user", "jane", "1.234",
                  "--reason", "x")[0] == 1
    assert run(db_url, capsys, "set-credit-limit", "--user", "jane", "0.50")[0] == 0
    code, out = run(db_url, capsys, "list-users")
    assert code == 0 and [(u["username"], u["balance"], u["credit_limit"], u["groups"])
                          for u in out] == [("jane", 225, 50, ["students"])]
    code, out = run(db_url, capsys, "add-shared-account", "Lab", "LAB", "--restricted",
                    "--balance", "10")
    assert code == 0
    assert run(db_url, capsys, "grant-account", "LAB", "--group", "students")[0] == 0
    assert run(db_url, capsys, "grant-account", "LAB", "--user", "nobody")[0] == 1
    code, out = run(db_url, capsys, "apply-quotas", "--now", "2024-05-06T10:00:00")
    assert code == 0 and [(x["amount"], x["period"]) for x in out] == [(100, "2024-W19")]
    code, out = run(db_url, capsys, "apply-quotas", "--now", "2024-05-07T10:00:00")
    assert out[0]["replayed"]

    # A printed job, then an admin refund through the tool.
    engine = make_engine(db_url)
    pricing = Pricing(default=CostModel(default=MediaPrice(mono=10)))  # type: ignore[arg-type]
    svc = AccountingService(engine, pricing)
    job = uuid.uuid4()
    svc.reserve(job, username="jane", printer="p", counts=JobCounts.simple(5))
    svc.settle(job)
    engine.dispose()
    code, out = run(db_url, capsys, "refund-job", str(job), "--amount", "0.20",
                    "--reason", "smudged", "--key", "r1")
    assert code == 0 and (out["charged"], out["refunded"]) == (30, 20)
    code, out = run(db_url, capsys, "list-transactions", "--user", "jane")
    assert [t["kind"] for t in out] == ["refund", "charge", "quota", "adjust", "initial"]
    assert out[0]["balance_after"] == 225 + 100 - 50 + 20
    code, out = run(db_url, capsys, "list-transactions", "--job", str(job))
    assert len(out) == 2
    assert run(db_url, capsys, "delete-user", "Jane")[0] == 0
    code, out = run(db_url, capsys, "list-users")
    assert out == []
    code, out = run(db_url, capsys, "list-users", "--deleted")
    assert out[0]["deleted"] is True


def test_cmd_text_output_and_usage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    assert main(["--database", url, "add-group", "g"]) == 0
    assert main(["--database", url, "adjust-balance", "--user", "ghost", "1",
                 "--reason", "r"]) == 1
    err = capsys.readouterr().err
    assert "unknown user 'ghost'" in err
    assert main(["--database", url, "no-such-command"]) == 2
    assert main(["--database", url, "list-users"]) == 0
