"""``ippproxy cmd reset-pagometers`` as an operator runs it (the command's ``main`` in this
process): the reset is recorded, the user list's period starts there, and the audit log
names the operator."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from ippproxy.catalog import AuditQuery, Catalog
from ippproxy.cli import main
from ippproxy.db import make_engine


def test_reset_pagometers_is_recorded_and_audited(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "ippproxy.toml"
    cfg.write_text(f'[storage]\ndatabase = "sqlite:///{tmp_path / "db.sqlite"}"\n'
                   f'spool = "{tmp_path / "spool"}"\n')
    pw = tmp_path / "pw"
    pw.write_text("correct horse battery\n")
    assert main(["cmd", "--config", str(cfg), "add-internal-user", "jane",
                 "--password-file", str(pw)]) == 0
    capsys.readouterr()
    before = dt.datetime.now(dt.UTC)
    assert main(["cmd", "--config", str(cfg), "--json", "reset-pagometers"]) == 0
    when = dt.datetime.fromisoformat(json.loads(capsys.readouterr().out)["reset_at"])
    assert when >= before
    assert main(["cmd", "--config", str(cfg), "--json", "list-users"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [dt.datetime.fromisoformat(r["pagometer_since"]) for r in rows] == [when]
    assert main(["cmd", "--config", str(cfg), "reset-pagometers"]) == 0
    assert capsys.readouterr().out.startswith("pagometers reset at ")
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        found = Catalog(engine).audit_log(AuditQuery(action="user.reset-pagometers"))
    finally:
        engine.dispose()
    assert len(found) == 2 and all(e.actor.startswith("cmd:") for e in found)
