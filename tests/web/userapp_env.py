"""The server the user web app's tests use: the real ``ippproxy serve`` with accounting on,
users alice and bob (internal, argon2), shared accounts Physics (alice may charge it) and
Chemistry, and four queues: "office" (prints at once), "billed" (a job without an
account is held ``account-info-needed``), "confirm" (a confirm-job rule's last chance)
"mobile" (personal printer URLs), "small" (a rule refuses jobs of more than one
page) and "secure" (every job held until its owner releases it). Jobs are printed with CUPS's ``ipptool`` (a real IPP client)."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from e2e.ipp_client import build
from support.cmd import run_cmd
from support.server import IppProxy
from support.webapi import Client, remember_certificate, trust

from ippproxy.ipp import Attribute, Operation, Status, Tag, decode, encode

from .conftest import ipp_print

CONFIG = """
[accounting]
enabled = true
unknown_users = "refuse"
settle_interval = 0.5
low_credit_threshold = "20.00"
[[cost_model]]
name = "colour"
mono = "0.10"
color = "0.50"
job_fee = "0.05"
[[group]]
name = "staff"
[[rule]]
type = "max-pages"
name = "one-page"
limit = 1
printers = ["small"]
[[rule]]
type = "force-duplex"
name = "duplex-office"
printers = ["office"]
[[rule]]
type = "confirm-job"
name = "last-chance"
printers = ["confirm"]
"""
PASSWORDS = {"alice": "alice-password-1", "bob": "bob-password-22"}


@dataclass
class UserEnv:
    proxy: IppProxy
    pdf: Path

    def cmd(self, *args: str, stdin: str = "") -> Any:
        db = f"sqlite:///{self.proxy.directory / 'ippproxy.db'}"
        r = run_cmd(["--database", db, "--json", *args], stdin=stdin)
        assert r.returncode == 0, r.stdout + r.stderr
        return json.loads(r.stdout) if r.stdout.strip() else None

    def print(self, queue: str, name: str, user: str = "alice") -> int:
        out = ipp_print(self.proxy, self.pdf, user=user, queue=queue, name=name)
        return int(out.split("job-id (integer) = ")[1].split()[0])

    def refused_print(self, queue: str, user: str) -> str:
        """Print-Job that a rule refuses: its IPP status-message."""
        msg = build(Operation.PRINT_JOB, self.proxy.uri(queue), user=user, op_attrs=[
            Attribute.single("document-format", Tag.MIME_MEDIA_TYPE, "application/pdf")])
        r = requests.post(self.proxy.https + self.proxy.path(queue),
                          data=encode(msg) + self.pdf.read_bytes(), timeout=60,
                          headers={"Content-Type": "application/ipp"},
                          verify=trust(self.proxy.https))
        reply = decode(r.content)
        assert reply.code == Status.CLIENT_ERROR_NOT_POSSIBLE, reply
        found = reply.get(Tag.OPERATION_ATTRIBUTES, "status-message")
        return str(found.value) if found is not None else ""

    def job_row(self, client: Client, name: str) -> dict[str, Any]:
        """The owner's own job of this name, from ``/api/v1/me/jobs``."""
        found = [j for j in client.get("/api/v1/me/jobs").json()["items"] if j["name"] == name]
        assert len(found) == 1, found
        return dict(found[0])

    def wait_state(self, client: Client, name: str, state: str) -> dict[str, Any]:
        deadline = time.monotonic() + 60
        while (job := self.job_row(client, name))["state"] != state:
            assert time.monotonic() < deadline, job
            time.sleep(0.2)
        return job

    def charges(self, job_uuid: str) -> list[tuple[int, str]]:
        rows = self.cmd("list-transactions", "--job", job_uuid)
        return [(r["amount"], r["kind"]) for r in rows]


QUEUES: list[dict[str, str | bool]] = [
    {"name": "office", "cost_model": "colour"},
    {"name": "billed", "cost_model": "colour", "account_required": True},
    {"name": "confirm", "cost_model": "colour"},
    {"name": "mobile", "cost_model": "colour", "authentication": "token"},
    {"name": "small", "cost_model": "colour"},
    {"name": "secure", "cost_model": "colour", "release": "secure"}]


def start(directory: Path, pdf: Path) -> UserEnv:
    proxy = IppProxy(directory, queues=QUEUES, forwarding={"poll_interval": 0.2})
    proxy.config_path.write_text(proxy.config_path.read_text() + CONFIG)
    proxy.start()
    remember_certificate(proxy)
    env = UserEnv(proxy, pdf)
    for name, password in PASSWORDS.items():
        env.cmd("add-internal-user", name, "--password-file", "-", "--group", "staff",
                "--balance", "10.00", stdin=f"{password}\n")
    for name, code in (("Physics", "physics"), ("Chemistry", "chemistry")):
        env.cmd("add-shared-account", name, code, "--balance", "20.00")
    env.cmd("grant-account", "--user", "alice", "physics")
    return env


def page_login(base: str, name: str, password: str, code: str = "") -> requests.Response:
    """The user app's login form, as a browser posts it."""
    return requests.post(base + "/user/login", data={
        "username": name, "password": password, "code": code, "next": "/user/"},
        headers={"Accept": "text/html"}, allow_redirects=False, timeout=30,
        verify=trust(base))


def user_client(base: str, name: str, code: str = "") -> Client:
    """A user signed in through the user app's form, with the session's CSRF token as the
    pages carry it (the ``csrf-token`` meta element)."""
    r = page_login(base, name, PASSWORDS[name], code)
    assert r.status_code == 303 and r.headers["Location"] == "/user/", (r.status_code, r.text)
    cookie = re.search(r"ippproxy_session=([^;]+)", r.headers["Set-Cookie"])
    assert cookie is not None
    client = Client(base, cookie=cookie.group(1))
    home = client.get("/user/", headers={"Accept": "text/html"})
    assert home.status_code == 200, home.text[:500]
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', home.text)
    assert token is not None
    client.csrf = token.group(1)
    return client
