"""``lp -U alice`` through a private cupsd to an ippproxy queue that wants HTTP Basic
(``authentication = "basic"``) over ``ipps://``: the CUPS queue's device URI carries alice's
user name and password (as ``lpadmin -v ipps://USER:PASSWORD@host/...`` does for a printer
that asks for a login), cupsd's ipp backend logs in over TLS, and the job is alice's at
ippproxy (the proven user, issue 17 §1), completes at the built-in printer and is charged to
her. A wrong password in the device URI makes no job and charges nothing (cupsd's backend
keeps retrying it)."""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path

from support.server import IppProxy, ippproxy_command, tracebacks

from testprinters.cupsd import PrivateCupsd

from .test_one_port import _pdf

EXTRA = """
[accounting]
enabled = true
unknown_users = "refuse"
settle_interval = 0.5
[[cost_model]]
name = "paper"
mono = "0.10"
color = "0.10"
"""


def _cmd(proxy: IppProxy, *args: str, stdin: str = "") -> object:
    r = subprocess.run([*ippproxy_command(), "cmd", "--database",
                        f"sqlite:///{proxy.directory / 'ippproxy.db'}", "--json", *args],
                       input=stdin, capture_output=True, text=True, timeout=60, check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads(r.stdout)


def _queue(cupsd: PrivateCupsd, proxy: IppProxy, name: str, uri: str) -> None:
    """A driverless CUPS queue (``-m everywhere`` reads the attributes of the open queue of
    the same printer: lpadmin sends no credentials), then its device URI with the login."""
    cupsd.add_queue(name, f"ipps://127.0.0.1:{proxy.port}/printers/open")
    cupsd.run("lpadmin", "-p", name, "-v", uri)


def _lp(cupsd: PrivateCupsd, queue: str, pdf: Path) -> int:
    """``lp -U alice -d QUEUE``: the job id cupsd gave it."""
    out = cupsd.run("lp", "-U", "alice", "-d", queue, str(pdf)).stdout
    m = re.search(r"request id is \S+-(\d+)", out)
    assert m is not None, out
    return int(m.group(1))


def test_lp_with_alices_login_through_cupsd_to_a_basic_ipps_queue(
        tmp_path: Path, private_cupsd: PrivateCupsd) -> None:
    pdf = _pdf(tmp_path)
    proxy = IppProxy(tmp_path / "proxy", forwarding={"poll_interval": 0.2}, queues=[
        {"name": "open"}, {"name": "login", "authentication": "basic", "cost_model": "paper"}])
    proxy.config_path.write_text(proxy.config_path.read_text() + EXTRA)
    with proxy:
        _cmd(proxy, "add-internal-user", "alice", "--password-file", "-", "--balance", "5.00",
             stdin="alice-pw-9\n")
        where = f"127.0.0.1:{proxy.port}/printers/login"
        _queue(private_cupsd, proxy, "office", f"ipps://alice:alice-pw-9@{where}")
        job = _lp(private_cupsd, "office", pdf)
        assert private_cupsd.wait_job_completed("office", job, 60), (
            private_cupsd.error_log()[-2500:] + proxy.log()[-2500:])
        deadline = time.monotonic() + 60
        while not (rows := _cmd(proxy, "list-transactions", "--user", "alice")) or \
                not any(r["kind"] == "charge" for r in rows):       # type: ignore[union-attr]
            assert time.monotonic() < deadline, rows
            time.sleep(0.3)
        charged = [r for r in rows if r["kind"] == "charge"]        # type: ignore[union-attr]
        assert [r["amount"] for r in charged] == [-20], rows     # two pages at 0.10
        _queue(private_cupsd, proxy, "wrong", f"ipps://alice:not-her-pw@{where}")
        before = _cmd(proxy, "list-transactions", "--user", "alice")
        wrong = _lp(private_cupsd, "wrong", pdf)
        deadline = time.monotonic() + 60      # its backend at work: answered 401, it retries
        while "job-printing" not in private_cupsd.run("lpstat", "-l", "-o", "wrong").stdout:
            assert time.monotonic() < deadline, private_cupsd.error_log()[-3000:]
            time.sleep(0.5)
        assert not private_cupsd.job_completed("wrong", wrong)
        assert _cmd(proxy, "list-transactions", "--user", "alice") == before
        private_cupsd.run("cancel", f"wrong-{wrong}")
        assert not tracebacks(proxy.log())
