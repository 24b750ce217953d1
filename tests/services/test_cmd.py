"""``ippproxy cmd --config FILE`` for the catalog, ``ippproxy export-config`` and
``check-config`` on its output, as an operator runs them: the command's ``main`` in this
process for most steps (the same code path, without a second start-up each), the
installed console script for the steps that prove it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from support.server import ippproxy_command

from ippproxy.cli import main


def run(*args: str, cwd: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([*ippproxy_command(), *args], cwd=cwd, input=stdin,
                          capture_output=True, text=True, timeout=60, check=False)


def inproc(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def config(tmp_path: Path) -> Path:
    path = tmp_path / "ippproxy.toml"
    path.write_text(f"""
[storage]
database = "sqlite:///{tmp_path / 'db.sqlite'}"
spool = "{tmp_path / 'spool'}"
[accounting]
currency = "CHF"
""")
    return path


def test_cmd_and_export_config_round_trip(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    cfg = str(config(tmp_path))
    steps = [
        ("queue", "add", "front", "destination=ipp://192.0.2.1/ipp/print",
         "info=Front desk, 1st floor", "force_duplex=true"),
        ("cost-model", "set", "page", 'mono="0.10"',
         'media=[{name="iso_a3_297x420mm", mono="0.20"}]'),
        ("queue", "set", "front", "cost_model=page"),
        ("rule", "add", "pages", "type=max-pages", "limit=40", 'printers=["front"]'),
        ("group", "set", "Staff", 'multiplier="0.5"'),
        ("option", "set", "accounting.unknown_users", "refuse"),
    ]
    r = run("cmd", "--config", cfg, *steps[0], cwd=tmp_path)   # the console script
    assert r.returncode == 0, r.stderr
    for step in steps[1:]:
        code, _, err = inproc(capsys, "cmd", "--config", cfg, *step)
        assert code == 0, (step, err)
    listing = json.loads(inproc(capsys, "cmd", "--config", cfg, "--json", "queue", "list")[1])
    assert listing[0]["config"]["info"] == "Front desk, 1st floor"
    assert listing[0]["config"]["force_duplex"] is True

    exported = tmp_path / "exported.toml"
    r = run("export-config", "--config", cfg, "--output", str(exported), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    text = exported.read_text()
    assert 'cost_model = "page"' in text and 'unknown_users = "refuse"' in text
    r = run("check-config", str(exported), cwd=tmp_path)
    assert r.returncode == 0 and "front" in r.stdout, r.stderr

    audit = json.loads(inproc(capsys, "cmd", "--config", cfg, "--json", "audit")[1])
    assert [e["action"] for e in audit][-1] == "create"
    assert {e["via"] for e in audit} == {"command"}
    assert all(e["actor"].startswith("cmd:") for e in audit)


def test_errors_are_one_line_and_exit_status_2(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    cfg = str(config(tmp_path))
    for args, words in ((("queue", "add", "bad name"), "invalid:name"),
                        (("queue", "add", "q", "destination=smb://x/y"), "destination"),
                        (("queue", "pause", "missing"), "notfound"),
                        (("queue", "add", "q", "no-equals-sign"), "KEY=VALUE"),
                        (("option", "set", "accounting.restricted", "maybe"), "invalid"),
                        (("cost-model", "delete", "nothing"), "notfound")):
        code, out, err = inproc(capsys, "cmd", "--config", cfg, *args)
        assert code == 2, (args, out, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1 and words in lines[0].replace(" ", ""), (args, lines)
    r = run("cmd", "--config", cfg, "queue", "add", "bad name", cwd=tmp_path)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr


def test_accounting_subcommands_take_the_database_and_currency_from_config(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = str(config(tmp_path))
    (tmp_path / "pw").write_text("secret\n")
    code, _, err = inproc(capsys, "cmd", "--config", cfg, "add-internal-user", "ann",
                          "--password-file", str(tmp_path / "pw"), "--balance", "2.50")
    assert code == 0, err
    code, out, err = inproc(capsys, "cmd", "--config", cfg, "list-users")
    assert code == 0 and "2.50 CHF" in out, out + err


def test_set_password_audits_the_os_user_without_user(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    """Issue 14 §5: the actor is the OS user (the password database), never ``cmd:unknown``,
    whatever ``$USER`` says or when it is unset."""
    import io
    import logging
    import os
    import pwd

    from ippproxy.services.admincmd import main as set_password

    for name in ("USER", "LOGNAME", "USERNAME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough master secret\n"))
    with caplog.at_level(logging.INFO, logger="ippproxy.audit"):
        assert set_password(["admin", "--database",
                             f"sqlite:///{tmp_path / 'db.sqlite'}"]) == 0
    actors = [json.loads(r.getMessage().removeprefix("audit "))["actor"]
              for r in caplog.records if r.name == "ippproxy.audit"]
    assert actors and set(actors) == {f"cmd:{pwd.getpwuid(os.getuid()).pw_name}"}
