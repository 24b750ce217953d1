"""``ippproxy cmd`` for users (issue 18): set-user-property for every editable property,
set-user-balance, new-user-token, add-internal-user with the [users] prefix and password
length, delete-user, erase-user and export-user-data; each audited, each refusal one line
and exit status 1 with nothing changed. In process (``ippproxy.cli.main``) on SQLite, and
once as the real command on PostgreSQL."""

from __future__ import annotations

import asyncio
import io
import json
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest
from support.postgres import pg_url, postgres_cluster  # noqa: F401
from support.server import ippproxy_command

from ippproxy.catalog import AuditQuery, Catalog
from ippproxy.cli import main
from ippproxy.db import make_engine
from ippproxy.ipp import JobState
from ippproxy.jobs.records import NewDocument
from ippproxy.jobs.spool import Spool
from ippproxy.jobs.state import JobEvent
from ippproxy.jobs.store import JobStore


def config(tmp_path: Path, database: str | None = None) -> Path:
    path = tmp_path / "ippproxy.toml"
    path.write_text(f"""
[storage]
database = "{database or f'sqlite:///{tmp_path / "db.sqlite"}'}"
spool = "{tmp_path / 'spool'}"
[accounting]
enabled = true
[users]
username_prefix = "i-"
password_length_min = 10
pin_length_min = 4
pin_length_max = 6
""")
    return path


def run(capsys: pytest.CaptureFixture[str], cfg: Path, *args: str) -> tuple[int, Any]:
    capsys.readouterr()
    code = main(["cmd", "--config", str(cfg), "--json", *args])
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else None


def test_every_property_through_the_command_tool(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = config(tmp_path)
    (tmp_path / "short").write_text("short\n")
    (tmp_path / "pw").write_text("long enough secret\n")
    code, out = run(capsys, cfg, "add-internal-user", "Jane", "--password-file",
                    str(tmp_path / "short"))
    assert code == 1 and "at least 10" in out["error"]
    code, out = run(capsys, cfg, "add-internal-user", "Jane", "--password-file",
                    str(tmp_path / "pw"))
    assert code == 0 and out["username"] == "i-jane", out
    assert run(capsys, cfg, "add-internal-user", "bob")[0] == 0
    for prop, value, key, expected in (
            ("full-name", "Jane Doe", "full_name", "Jane Doe"),
            ("admin", "true", "admin", True),
            ("person", "false", "person", False),
            ("disabled", "true", "disabled", True),
            ("email", "Jane@example.org;j2@example.org", "emails",
             ["jane@example.org", "j2@example.org"]),
            ("card-number", "12345678", "card_number", "78563412"),  # --card-order msb
            ("id-number", "ID-0001", "id_number", "ID-0001"),
            ("pin", "0815", "pin_set", True),
            ("password", "another long one", "password_set", True),
            ("credit-limit", "500", "credit_limit", 500),
            ("credit-limit-source", "none", "credit_source", "none"),
            ("restricted", "true", "credit_source", "individual"),
            ("role-web-cashier", "enabled", "role-web-cashier", "enabled"),
            ("role-print-job-creator", "disabled", "role-print-job-creator", "disabled")):
        extra = ["--card-order", "msb"] if prop == "card-number" else []
        code, out = run(capsys, cfg, "set-user-property", "I-JANE", prop, value, *extra)
        assert code == 0 and out[key] == expected, (prop, out)
    for prop, value, words in (("pin", "12ab", "pin: digits only"),
                               ("pin", "1234567", "at most 6"),
                               ("card-number", "XYZ", "card-number"),
                               ("password", "short", "at least 10"),
                               ("email", "jane@example.org", "already used by user 'i-jane'"),
                               ("admin", "maybe", "true or false"),
                               ("role-web-cashier", "sometimes", "one of enabled, disabled")):
        code, out = run(capsys, cfg, "set-user-property", "i-bob", prop, value)
        assert code == 1 and words in out["error"], (prop, out)
    monkeypatch.setattr("sys.stdin", io.StringIO("4711\n"))  # a secret not on the line
    assert run(capsys, cfg, "set-user-property", "i-bob", "pin", "-")[0] == 0
    code, out = run(capsys, cfg, "set-user-balance", "i-jane", "12.34", "--reason", "cash")
    assert code == 0 and out["balance"] == 1234
    code, out = run(capsys, cfg, "new-user-token", "i-jane")
    assert code == 0 and len(out["uuid_token"]) == 36

    zip_path = tmp_path / "jane.zip"
    code, out = run(capsys, cfg, "export-user-data", "i-jane", "--output", str(zip_path))
    assert code == 0 and out["bytes"] == zip_path.stat().st_size
    data = json.loads(zipfile.ZipFile(zip_path).read("personal-data.json"))
    assert data["profile"]["full_name"] == "Jane Doe"
    assert [t["amount"] for t in data["transactions"]] == [1234]
    assert any(a["action"] == "user.edit" for a in data["audit"])
    assert (zip_path.stat().st_mode & 0o077) == 0  # personal data: the owner's only

    code, out = run(capsys, cfg, "erase-user", "i-jane")
    assert code == 0 and out["username"].startswith("erased-")
    code, out = run(capsys, cfg, "set-user-property", "i-jane", "full-name", "x")
    assert code == 1 and "no user named 'i-jane'" in out["error"]
    code, out = run(capsys, cfg, "delete-user", "i-bob")
    assert code == 0 and out["deleted"] == "physical"
    code, out = run(capsys, cfg, "delete-user", out["username"])
    assert code == 1
    code, out = run(capsys, cfg, "delete-user", "i-nobody")
    assert code == 1 and "no user named" in out["error"]

    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        actions = [e.action for e in Catalog(engine).audit_log(AuditQuery(limit=100))]
    finally:
        engine.dispose()
    assert actions.count("user.edit") >= 12 and "user.erase" in actions
    assert all(e for e in actions)


def test_the_real_command_on_postgresql(tmp_path: Path, pg_url: str) -> None:  # noqa: F811
    cfg = config(tmp_path, pg_url)

    def cmd(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run([*ippproxy_command(), "cmd", "--config", str(cfg), "--json",
                               *args], input=stdin, capture_output=True, text=True,
                              timeout=120, check=False)
    name = f"pg{tmp_path.name[-6:]}".lower().replace("_", "")
    r = cmd("add-internal-user", name, "--password-file", "-", stdin="a long password\n")
    assert r.returncode == 0, r.stderr
    r = cmd("set-user-property", f"i-{name}", "card-number", "305419896", "--card-format",
            "dec", "--card-order", "msb")
    assert r.returncode == 0 and json.loads(r.stdout)["card_number"] == "78563412", r.stderr
    r = cmd("set-user-property", f"i-{name}", "pin", "abcd")
    assert r.returncode == 1 and "digits only" in json.loads(r.stdout)["error"]
    assert "Traceback" not in r.stderr
    r = cmd("delete-user", f"i-{name}")
    assert r.returncode == 0 and json.loads(r.stdout)["deleted"] == "physical", r.stderr


async def test_person_false_removes_the_held_jobs(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    cfg = config(tmp_path)
    assert run(capsys, cfg, "add-internal-user", "stu")[0] == 0
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    spool = Spool(tmp_path / "spool", max_bytes=10 << 20)
    try:
        async with JobStore(engine) as store:
            held = []
            for owner in ("I-Stu", "someone-else"):
                async with spool.writer() as w:
                    await w.write(b"%PDF-1.7 test")
                doc = NewDocument(spool_name=w.name, size=w.size, sha256=w.sha256,
                                  format="application/pdf")
                job = await store.create_job("office", owner=owner, documents=(doc,),
                                             closed=True)
                held.append((await store.transition(job.uuid, JobEvent.HOLD)).uuid)
        code, out = await asyncio.to_thread(run, capsys, cfg, "set-user-property", "i-stu",
                                            "person", "false")
        assert code == 0 and out["held_jobs_removed"] == 1, out
        async with JobStore(engine) as store:
            mine, other = [await store.get_by_uuid(u) for u in held]
        assert mine is not None and mine.state == JobState.CANCELED
        assert other is not None and other.state == JobState.PENDING_HELD
    finally:
        engine.dispose()
