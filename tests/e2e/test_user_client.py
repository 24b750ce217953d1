"""``ippproxy-client`` end to end (issue 17 "Done when"): the real ``ippproxy serve``,
alice prints over IPPS with HTTP Basic to queue "ask" (an ask-account rule), the client (a
real subprocess) logs in, gets the popup with alice's accounts over its event stream and
answers "Physics": the job prints on the built-in printer and Physics is charged once.
A job left unanswered while alice has no client: the admin's live activity shows the
"client unavailable" alert, the popup timeout deletes the job, nothing is charged. Bad
answers (twice, too late, another user's job) get the server's reason and charge nothing."""

from __future__ import annotations

import base64
import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.server import IppProxy
from support.userclient import UserClient, run_client
from support.webapi import first_password, login, remember_certificate

from ippproxy.ipp import Status

from .ipp_client import status_message
from .test_account_answers import Stream
from .test_accounting_e2e import EXTRA, Env, _job_id, pdf

ASK = """
[[rule]]
type = "ask-account"
name = "ask"
printers = ["ask"]
"""


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


ALICE = basic("alice", "alice-pw")


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    proxy = IppProxy(tmp_path_factory.mktemp("client"), queues=[
        {"name": "open"},   # first: the start-up probe asks it without credentials
        {"name": "ask", "cost_model": "colour", "authentication": "basic"}])
    proxy.config_path.write_text(proxy.config_path.read_text() + EXTRA + ASK)
    with proxy:
        remember_certificate(proxy)
        e = Env(proxy)
        for name in ("alice", "bob"):
            e.cmd("add-internal-user", name, "--password-file", "-", "--group", "staff",
                  "--balance", "10.00", stdin=f"{name}-pw\n")
        e.cmd("add-shared-account", "Physics", "physics", "--balance", "20.00")
        e.cmd("grant-account", "--user", "alice", "physics")
        yield e
        assert "Traceback" not in proxy.log(), proxy.log()[-3000:]


def _charges(env: Env, account: str) -> list[tuple[int, str]]:
    rows = env.cmd("list-transactions", "--account", account)
    return [(r["amount"], r["kind"]) for r in rows if r["kind"] != "initial"]


def _personal(env: Env, user: str) -> list[tuple[int, str]]:
    rows = env.cmd("list-transactions", "--user", user)
    return [(r["amount"], r["kind"]) for r in rows if r["kind"] != "initial"]


def _print(env: Env, tag: str, *, held: bool = True) -> dict[str, object]:
    # requesting-user-name says "mallory": the Basic login (alice) owns the job.
    reply = env.print_job("ask", pdf([False], tag), user="mallory", auth=ALICE)
    assert reply.code == Status.SUCCESSFUL_OK, status_message(reply)
    attrs = env.job("ask", _job_id(reply), auth=ALICE)
    assert attrs["job-originating-user-name"] == "alice"
    if held:   # nobody answers: it waits for the account
        assert (attrs["job-state"], attrs["job-state-reasons"]) == (4, "account-info-needed")
    return attrs


def _uuid(attrs: dict[str, object]) -> str:
    return str(attrs["job-uuid"]).removeprefix("urn:uuid:")


def test_the_client_answers_physics_and_the_job_prints_charged_once(
        env: Env, tmp_path: Path) -> None:
    config = tmp_path / "alice-config"
    client = UserClient(env.proxy, config, "--user", "alice", "--password-file", "-",
                        "--answer-account", "Physics", "--once", stdin="alice-pw\n")
    try:
        client.next("connection", where=lambda d: d["status"] == "connected")
        balance = client.next("balance")
        assert [a["name"] for a in balance["accounts"]] == ["alice", "Physics"]
        attrs = _print(env, "physics-job", held=False)   # the client may answer at once
        uuid = _uuid(attrs)
        popup = client.next("account-needed", where=lambda d: d["uuid"] == uuid)
        assert [(c["code"], c["name"]) for c in popup["choices"]] == [
            (None, "alice"), ("physics", "Physics")]
        assert (popup["printer"], popup["pages"], popup["cost"]) == ("ask", 1, "0.15 EUR")
        assert popup["deadline"] and popup["reasons"] == ["account-info-needed"]
        answered = client.next("answered", where=lambda d: d["uuid"] == uuid)
        assert answered["account"] == "physics"
        code, err = client.wait()
        assert code == 0, err
    finally:
        client.stop()
    done = env.wait_job("ask", int(str(attrs["job-id"])), "ippproxy-cost-charged", auth=ALICE)
    assert done["job-state"] == 9 and done["job-account-id"] == "physics"
    assert _charges(env, "physics") == [(-15, "charge")]
    assert _personal(env, "alice") == []
    # The login is kept for alice alone (0600) and used again without a password.
    saved = list(config.glob("session-*.json"))
    assert len(saved) == 1 and stat.S_IMODE(os.stat(saved[0]).st_mode) == 0o600
    assert "alice-pw" not in saved[0].read_text()
    # Answering it again (the saved login, no password): refused, charged once.
    code, lines, err = run_client(env.proxy, config, "--job", uuid, "--answer-account",
                                  "Physics")
    assert code == 1 and "waits for no account" in err, (lines, err)
    assert lines[-1]["event"] == "refused" and lines[-1]["data"]["status"] == 409
    assert _charges(env, "physics") == [(-15, "charge")]


def test_unanswered_without_a_client_alert_deleted_nothing_charged(
        env: Env, tmp_path: Path) -> None:
    proxy = env.proxy
    proxy.option("set", "accounting.client_alert", "true")
    admin = login(proxy.https, "admin", first_password(proxy))
    live = Stream(admin, "/admin/events")
    try:
        attrs = _print(env, "nobody-answers")
        deadline = time.monotonic() + 40
        while True:
            kind, data = live.events.get(timeout=max(0.1, deadline - time.monotonic()))
            if kind == "client-unavailable" and data["job_id"] == attrs["job-id"]:
                break
        assert (data["user"], data["queue"]) == ("alice", "ask")
        assert (f"client unavailable: alice has no client connected to choose the account "
                f"of job {attrs['job-id']}") in proxy.log()
    finally:
        live.close()
    proxy.option("set", "accounting.popup_timeout", "1")
    try:
        deadline = time.monotonic() + 60
        while (state := env.job("ask", int(str(attrs["job-id"])), auth=ALICE))[
                "job-state"] != 7:
            assert time.monotonic() < deadline, state
            time.sleep(0.5)
        assert "nothing was charged" in str(state["job-state-message"])
        # Too late: the client is told why; nothing is charged.
        code, lines, err = run_client(proxy, tmp_path / "late", "--user", "alice",
                                      "--password-file", "-", "--job", _uuid(attrs),
                                      "--answer-account", "personal", stdin="alice-pw\n")
        assert code == 1 and "canceled" in err, (lines, err)
        assert env.ledger(_uuid(attrs)) == []
    finally:
        proxy.option("clear", "accounting.popup_timeout")
        proxy.option("clear", "accounting.client_alert")


def test_another_users_job_and_a_wrong_password(env: Env, tmp_path: Path) -> None:
    attrs = _print(env, "not-bobs")
    code, lines, err = run_client(env.proxy, tmp_path / "bob", "--user", "bob",
                                  "--password-file", "-", "--job", _uuid(attrs),
                                  "--answer-account", "personal", stdin="bob-pw\n")
    assert code == 1 and lines[-1]["data"]["status"] == 404, (lines, err)
    assert "not-bobs" not in err
    code, _, err = run_client(env.proxy, tmp_path / "wrong", "--user", "alice",
                              "--password-file", "-", "--once", stdin="not-her-pw\n")
    assert code == 2 and "wrong name or password" in err, err
    assert not list((tmp_path / "wrong").glob("session-*.json"))
    # The server's certificate is checked: without --cafile (the self-signed test
    # certificate is in no system store) nothing is sent.
    code, _, err = run_client(env.proxy, tmp_path / "nocert", "--user", "alice",
                              "--password-file", "-", "--once", stdin="alice-pw\n",
                              cafile=False)
    assert code == 2 and "certificate" in err, err
    assert env.ledger(_uuid(attrs)) == []


class Terminal:
    """``ippproxy-client`` on a pseudo-terminal (pty): stdin is a TTY, so it asks for the
    password (not echoed) and for each popup's answer, as a person at a terminal sees it."""

    def __init__(self, argv: list[str]) -> None:
        import pty

        self.pid, self.fd = pty.fork()
        if self.pid == 0:   # the child: the client, its stdio the terminal
            os.execvp(argv[0], argv)
        self.text = ""

    def expect(self, wanted: str, timeout: float = 60.0, times: int = 1) -> str:
        """The terminal's text once ``wanted`` is on it ``times`` times."""
        import select

        deadline = time.monotonic() + timeout
        while self.text.count(wanted) < times:
            left = deadline - time.monotonic()
            assert left > 0, f"no {wanted!r} on the terminal; it shows:\n{self.text}"
            ready, _, _ = select.select([self.fd], [], [], min(left, 1.0))
            if ready:
                try:
                    self.text += os.read(self.fd, 4096).decode("utf-8", "replace")
                except OSError:   # the client exited
                    break
        assert wanted in self.text, self.text
        return self.text

    def type(self, line: str) -> None:
        os.write(self.fd, (line + "\n").encode())

    def close(self) -> None:
        import signal

        try:
            os.kill(self.pid, signal.SIGTERM)
            os.waitpid(self.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        os.close(self.fd)


def test_at_a_terminal_the_user_types_the_password_and_picks_the_account(
        env: Env, tmp_path: Path) -> None:
    from support.userclient import client_command

    term = Terminal([*client_command(), env.proxy.https, "--user", "alice", "--cafile",
                     str(env.proxy.cert), "--config-dir", str(tmp_path / "tty"),
                     "--no-notify"])
    try:
        term.expect("Password for alice:")
        term.type("alice-pw")
        term.expect("[connected]")
        assert "alice-pw" not in term.text            # not echoed
        attrs = _print(env, "typed", held=False)
        mine = f"Account for job {attrs['job-id']} (number, code:CODE; Enter: not now):"
        prompts = 0
        while True:   # alice's jobs held by the tests before are asked first: not now
            prompts += 1
            shown = term.expect("(number, code:CODE; Enter: not now):", times=prompts)
            if shown.rstrip().endswith(mine):
                break
            term.type("")
        assert f'Choose the account for job {attrs["job-id"]} "untitled" on ask' in shown
        assert "[2] Physics (code physics" in shown and "left to answer" in shown
        term.type("2")
        term.expect(f"Answered: job {attrs['job-id']} is pending, charged to physics")
    finally:
        term.close()
    done = env.wait_job("ask", int(str(attrs["job-id"])), "ippproxy-cost-charged", auth=ALICE)
    assert done["job-account-id"] == "physics"
    assert [(a, k) for a, _, k, _ in env.ledger(_uuid(attrs))] == [(-15, "charge")]
