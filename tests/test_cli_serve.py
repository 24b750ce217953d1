"""``ippproxy serve`` for an operator (issue 16): one server per configuration, the port
bound before recovery, start-up errors in one line with exit status 2, the ready line
once the server listens (with a print command that works from any directory), and one
log line per job event, as text or JSON.

Everything runs the real command as a subprocess and prints with the real ``ipptool``.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ippproxy.cli import sample_document
from tests.support.server import IppProxy, free_port, ippproxy_command, tracebacks


def serve(config: Path, *extra: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*ippproxy_command(), "serve", "--config", str(config), *extra],
                          capture_output=True, text=True, check=False, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def print_sample(uri: str, cwd: Path) -> None:
    r = subprocess.run(["ipptool", "-tq", "-f", str(sample_document()), uri,
                        "print-job.test"], cwd=cwd, capture_output=True, text=True,
                       check=False, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


def job_rows(db: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT * FROM jobs ORDER BY queue, job_id").fetchall()


COMPLETED = 9   # RFC 8011 §5.3.7 job-state


def states(db: Path) -> list[int]:
    with sqlite3.connect(db) as conn:
        return [r[0] for r in conn.execute("SELECT state FROM jobs ORDER BY job_id")]


def wait_for(predicate, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_a_second_server_on_the_same_configuration_exits_2_and_touches_nothing(
        tmp_path: Path) -> None:
    with IppProxy(tmp_path / "one") as first:
        for _ in range(2):
            print_sample(first.uri(), tmp_path)
        db = first.directory / "ippproxy.db"
        wait_for(lambda: states(db) == [COMPLETED, COMPLETED])   # at the built-in printer
        before = job_rows(db)
        # an upload in progress: the recovery of a second server would delete it
        upload = first.directory / "spool" / f".{'ab' * 16}.tmp"
        upload.write_bytes(b"%PDF-1.4 half")
        second = serve(first.config_path)
        assert second.returncode == 2, second
        assert second.stdout == ""
        assert second.stderr == (
            f"ippproxy serve: another ippproxy is running on this configuration (pid "
            f"{first.pid}, listening on 127.0.0.1:{first.port}; lock "
            f"{first.directory / 'spool' / '.ippproxy.lock'})\n")
        assert job_rows(db) == before
        assert upload.exists()
        print_sample(first.uri(), tmp_path)   # the first server goes on
        assert tracebacks(first.log()) == []
    # once the first one stopped, the same configuration starts
    with IppProxy(tmp_path / "one", port=first.port) as again:
        assert again.is_running()


def test_the_lock_of_a_killed_server_does_not_outlive_it(tmp_path: Path) -> None:
    proxy = IppProxy(tmp_path).start()
    proxy.kill9()
    proxy.start()
    proxy.stop()


def test_a_taken_port_is_one_line_and_nothing_is_opened(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proxy = IppProxy(tmp_path, port=port)
        r = serve(proxy.config_path)
    assert r.returncode == 2
    assert r.stderr == (f"ippproxy serve: cannot listen on 127.0.0.1:{port}: "
                        "Address already in use\n")
    assert not (tmp_path / "ippproxy.db").exists()   # bound before the database


@pytest.mark.parametrize("case", ["unresolvable", "spool-is-a-file", "database-down"])
def test_start_up_errors_are_one_line_with_exit_status_2(tmp_path: Path, case: str) -> None:
    proxy = IppProxy(tmp_path)
    text = proxy.config_path.read_text()
    if case == "unresolvable":
        text = text.replace('listen = "127.0.0.1"', 'listen = "printer.invalid"', 1)
        expected = f"cannot listen on printer.invalid:{proxy.port}: "
    elif case == "spool-is-a-file":
        (tmp_path / "spool").write_text("not a directory")
        expected = f"cannot open the lock file {tmp_path / 'spool' / '.ippproxy.lock'}: "
    else:
        down = free_port()
        text = text.replace(f"sqlite:///{tmp_path / 'ippproxy.db'}",
                            f"postgresql+psycopg://nobody@127.0.0.1:{down}/none")
        expected = "cannot start: OperationalError: "
    proxy.config_path.write_text(text)
    r = serve(proxy.config_path)
    assert r.returncode == 2, r
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert lines[0].startswith(f"ippproxy serve: {expected}"), lines[0]


def test_the_ready_line_comes_once_listening_and_its_command_works_anywhere(
        tmp_path: Path) -> None:
    proxy = IppProxy(tmp_path / "server")
    proc = subprocess.Popen([*ippproxy_command(), "serve", "--config", str(proxy.config_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            stdin=subprocess.DEVNULL, env=dict(os.environ, PYTHONUNBUFFERED="1"))
    try:
        assert proc.stdout is not None
        lines: list[str] = []
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("ippproxy ready"):
                # the very moment it is printed, the port accepts
                socket.create_connection(("127.0.0.1", proxy.port), timeout=1).close()
                break
        assert lines[-1].startswith(f"ippproxy ready: listening on 127.0.0.1:{proxy.port}")
        banner = [proc.stdout.readline() for _ in range(5)]
        command = next(b.strip() for b in banner if b.strip().startswith("ipptool"))
        argv = shlex.split(command)
        assert Path(argv[argv.index("-f") + 1]).is_absolute()
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        r = subprocess.run(argv, cwd=elsewhere, capture_output=True, text=True, timeout=60,
                           check=False)
        assert r.returncode == 0, r.stdout
        assert "job-state (enum) = " in r.stdout and "[PASS]" in r.stdout
    finally:
        proc.terminate()
        proc.wait(30)


def test_one_log_line_per_job_event_with_accounting_off(tmp_path: Path) -> None:
    with IppProxy(tmp_path) as proxy:
        print_sample(proxy.uri(), tmp_path)
        done = (r"INFO ippproxy\.joblog: job completed: queue=default job-id=1 user=\S+ "
                r"pages=1 cost=none")
        wait_for(lambda: re.search(done, proxy.log()) is not None)
        log = proxy.log()
        assert re.search(r"INFO ippproxy\.joblog: job received: queue=default job-id=1 "
                         r"user=\S+ pages=\S+ cost=none", log), log
        assert len(re.findall(r"job received: queue=default job-id=1 ", log)) == 1
        # quiet migrations: nothing of Alembic at INFO
        assert "alembic" not in log.lower()


def test_job_events_as_json_with_their_fields(tmp_path: Path) -> None:
    proxy = IppProxy(tmp_path)
    text = proxy.config_path.read_text().replace(
        "[[queue]]", '[accounting]\nenabled = true\nrestricted = false\n'
        'default_cost_model = "a4"\n[[cost_model]]\nname = "a4"\nmono = "0.10"\n'
        'color = "0.40"\n[[queue]]', 1)
    proxy.config_path.write_text(text)
    log_path = tmp_path / "json.log"
    with log_path.open("w") as out:
        proc = subprocess.Popen([*ippproxy_command(), "serve", "--config",
                                 str(proxy.config_path), "--log-format", "json"],
                                stdout=subprocess.DEVNULL, stderr=out,
                                stdin=subprocess.DEVNULL)
    try:
        wait_for(lambda: '"ippproxy listening' in log_path.read_text()
                 or proc.poll() is not None)
        print_sample(proxy.uri(), tmp_path)

        def events() -> list[dict[str, object]]:
            records = [json.loads(line) for line in log_path.read_text().splitlines()]
            return [r for r in records if r["logger"] == "ippproxy.joblog"]
        wait_for(lambda: any(e["event"] == "completed" for e in events()))
        done = next(e for e in events() if e["event"] == "completed")
        assert {k: done[k] for k in ("queue", "job_id", "pages", "cost", "level")} == {
            "queue": "default", "job_id": 1, "pages": 1, "cost": "0.10 EUR", "level": "INFO"}
        assert done["user"] and str(done["time"]).endswith("+00:00")
        assert next(e["event"] for e in events()) == "received"
    finally:
        proc.terminate()
        proc.wait(30)


def test_log_format_is_checked() -> None:
    r = subprocess.run([sys.executable, "-m", "ippproxy.cli", "serve", "--log-format", "xml"],
                       capture_output=True, text=True, check=False, timeout=60)
    assert r.returncode == 2 and "invalid choice: 'xml'" in r.stderr
