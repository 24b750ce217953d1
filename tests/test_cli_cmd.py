"""``ippproxy cmd`` for people and scripts (issue 16): passwords asked for only where a
queue authenticates, aligned tables and ``key: value`` blocks for people, ``--json`` for
scripts, ledger rows that name a job by queue and job-id, examples in ``--help``, and a
table of subcommand families another module can extend.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from ippproxy import cli
from ippproxy.cli import sample_document
from tests.support.server import IppProxy, ippproxy_command


def write_config(tmp_path: Path, queue: str = "") -> Path:
    path = tmp_path / "ippproxy.toml"
    path.write_text(f'[storage]\ndatabase = "sqlite:///{tmp_path}/db.sqlite"\n'
                    f'spool = "{tmp_path}/spool"\n[accounting]\nenabled = true\n'
                    f'[[queue]]\nname = "q"\n{queue}')
    return path


def cmd(config: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([*ippproxy_command(), "cmd", "--config", str(config), *args],
                          input=stdin, capture_output=True, text=True, check=False,
                          timeout=120)


def test_no_password_is_asked_for_where_no_queue_authenticates(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    r = cmd(config, "add-internal-user", "jane", "--balance", "5.00", stdin="unused\n")
    assert r.returncode == 0, r.stderr
    assert re.search(r"^password: +none \(no queue asks for one\)$", r.stdout, re.MULTILINE), r.stdout
    # --ask-password sets one all the same (here from standard input: no terminal)
    r = cmd(config, "--json", "add-internal-user", "joe", "--ask-password", stdin="s3cret\n")
    assert r.returncode == 0 and json.loads(r.stdout)["password"] == "set", r


def test_a_password_is_read_where_a_queue_of_the_file_authenticates(tmp_path: Path) -> None:
    config = write_config(tmp_path, 'authentication = "basic"\n')
    r = cmd(config, "add-internal-user", "jane")
    assert r.returncode == 1
    assert r.stderr == "ippproxy cmd: no password on standard input\n"
    r = cmd(config, "--json", "add-internal-user", "jane", stdin="s3cret\n")
    assert r.returncode == 0 and json.loads(r.stdout)["password"] == "set", r


def test_a_password_is_read_where_a_queue_of_the_catalog_authenticates(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    r = cmd(config, "queue", "add", "door", "destination=ipp://printer.example/ipp/print",
            "authentication=basic")
    assert r.returncode == 0, r.stderr
    r = cmd(config, "add-internal-user", "jane")
    assert (r.returncode, r.stderr) == (1, "ippproxy cmd: no password on standard input\n")


def test_tables_for_people_and_json_for_scripts(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    for name, balance in (("jane", "5.00"), ("alexander", "12.50")):
        assert cmd(config, "add-internal-user", name, "--balance", balance).returncode == 0
    r = cmd(config, "list-users")
    lines = r.stdout.splitlines()
    header = lines[0].split()
    assert header[:2] == ["id", "username"] and "balance" in header
    assert set(lines[1]) == {"-", " "}
    assert len(lines) == 4
    # aligned: every row's balance ends where the header's column ends
    end = lines[0].index("balance") + len("balance")
    assert {line[:end].rstrip()[-3:] for line in lines[2:]} == {"EUR"}
    assert any(" 12.50 EUR" in line and "alexander" in line for line in lines)
    users = json.loads(cmd(config, "--json", "list-users").stdout)
    assert sorted((u["username"], u["balance"]) for u in users) == [
        ("alexander", 1250), ("jane", 500)]


def test_a_ledger_row_names_its_job_by_queue_and_job_id(tmp_path: Path) -> None:
    proxy = IppProxy(tmp_path, queues=[{"name": "office"}])
    text = proxy.config_path.read_text().replace(
        "[[queue]]", '[accounting]\nenabled = true\nrestricted = false\n'
        'default_cost_model = "a4"\n[[cost_model]]\nname = "a4"\nmono = "0.10"\n'
        'color = "0.40"\n[[queue]]', 1)
    proxy.config_path.write_text(text)
    with proxy:
        r = subprocess.run(["ipptool", "-tq", "-d", "user=jane", "-f",
                            str(sample_document()), proxy.uri(), "print-job.test"],
                           capture_output=True, text=True, check=False, timeout=60)
        assert r.returncode == 0, r.stdout
        deadline = time.monotonic() + 30
        rows: list[dict[str, Any]] = []
        while not rows:
            assert time.monotonic() < deadline
            r = cmd(proxy.config_path, "--json", "list-transactions", "--kind", "charge")
            rows = json.loads(r.stdout)
            time.sleep(0.2)
        assert (rows[0]["queue"], rows[0]["job_id"]) == ("office", 1)
        people = cmd(proxy.config_path, "list-transactions", "--kind", "charge").stdout
        assert re.search(r"  charge .*  office/1  ", people), people
        assert rows[0]["job"] not in people          # the UUID is for scripts
        # refund-job takes printed jobs only: once the job is settled, it refunds
        while True:
            r = cmd(proxy.config_path, "refund-job", "--queue", "office", "--job-id", "1",
                    "--reason", "jammed", "--key", "once")
            if r.returncode == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        assert r.returncode == 0, r.stderr
        assert re.search(r"^job: +office/1$", r.stdout, re.MULTILINE), r.stdout
        assert re.search(r"^refunded: +0\.10 EUR$", r.stdout, re.MULTILINE), r.stdout


def test_help_has_an_example_for_each_task(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["cmd", "--help"]) == 0
    out = capsys.readouterr().out
    for task, example in (("add a user", "add-internal-user jane"),
                          ("top up", "adjust-balance --user jane 10.00"),
                          ("refund a job", "refund-job --queue office --job-id 12"),
                          ("a user's transactions", "list-transactions --user jane")):
        assert re.search(rf"^  {re.escape(task)} +ippproxy cmd --config ippproxy.toml "
                         rf"{re.escape(example)}", out, re.MULTILINE), task
    assert "queue add" in out          # the catalog's half too


def test_a_new_family_of_subcommands_is_one_row(monkeypatch: pytest.MonkeyPatch,
                                                 tmp_path: Path) -> None:
    seen: list[tuple[list[str], str | None]] = []

    def run(rest: list[str], path: str | None, cfg: Any) -> int:
        seen.append((rest, path))
        return 7
    family = cli.CmdFamily(lambda: ("hello",), run)
    monkeypatch.setattr(cli, "CMD_FAMILIES", [family, *cli.CMD_FAMILIES])
    config = write_config(tmp_path)
    assert cli.main(["cmd", "--config", str(config), "hello", "--x"]) == 7
    assert seen == [(["hello", "--x"], str(config))]
