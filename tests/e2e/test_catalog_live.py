"""Configuration changed live on two ``ippproxy serve`` nodes sharing one PostgreSQL
(issue 13, "two nodes on one PostgreSQL"), through the real command and real IPP.

A queue added with ``ippproxy cmd queue add`` against node 1's configuration file takes a
Print-Job on node 2 without a restart (polled, bounded: the delay is the watcher's
interval); pausing it makes node 2 answer ``printer-state`` stopped and
``printer-state-reasons`` paused, and its next job waits at our side until it is resumed;
a Pause-Printer over IPP on node 1 shows on node 2 as well (audited as the IPP user);
deleting it makes node 2 refuse jobs with ``client-error-not-found``. The queue the files
declare is provisioned: the command refuses to change it (exit status 2, one line).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.admin import bearer
from support.cmd import run_cmd
from support.postgres import pg_url, postgres_cluster  # noqa: F401
from support.server import IppProxy, ippproxy_command

from ippproxy.config import load
from ippproxy.ipp import Attribute, Message, Operation, Status, Tag, encode

from .ipp_client import build, parse_reply, status_name
from .test_multinode_pg import Printer, one_page_pdf, start_all, wait_for
from .wire import http_exchange, post_request

PROVISIONED = "lobby"
POLL = 0.2


@pytest.fixture
def printer(tmp_path: Path) -> Iterator[Printer]:
    p = Printer(tmp_path)
    try:
        yield p
    finally:
        p.close()


def node(directory: Path, name: str, database: str, spool: Path, printer: Printer) -> IppProxy:
    proxy = IppProxy(directory / name, queues=[{"name": PROVISIONED,
                                                "destination": printer.uri}],
                     forwarding={"poll_interval": 0.1})
    text = proxy.config_path.read_text()
    old = (f'database = "sqlite:///{proxy.directory / "ippproxy.db"}"\n'
           f'spool = "{proxy.directory / "spool"}"')
    assert old in text
    proxy.config_path.write_text(text.replace(old, (
        f'database = "{database}"\nspool = "{spool}"\nnode = "{name}"\n'
        f"catalog_poll_interval = {POLL}")))
    return proxy


def cmd(proxy: IppProxy, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cmd(["--config", str(proxy.config_path), *args])


def ipp(proxy: IppProxy, queue: str, op: int, document: bytes = b"",
        op_attrs: tuple[Attribute, ...] = (), user: str = "student") -> Message:
    msg = build(op, proxy.uri(queue), user=user, op_attrs=op_attrs)
    return parse_reply(http_exchange(proxy.port, post_request(
        encode(msg) + document, proxy.path(queue), proxy.port), timeout=60), msg.request_id)


def ipp_as_admin(proxy: IppProxy, queue: str, op: int) -> Message:
    """``op`` from a proven admin: an API token with write access to the printers, over
    TLS (requesting-user-name makes nobody an admin: server/authn.py)."""
    header = asyncio.run(bearer(load(str(proxy.config_path))))
    msg = build(op, proxy.uri(queue), user="root")
    return parse_reply(http_exchange(proxy.port, post_request(
        encode(msg), proxy.path(queue), proxy.port, extra_headers=f"Authorization: {header}\r\n"),
        timeout=60, tls=True), msg.request_id)


def print_job(proxy: IppProxy, queue: str) -> Message:
    return ipp(proxy, queue, Operation.PRINT_JOB, one_page_pdf(queue), (
        Attribute.single("document-format", Tag.MIME_MEDIA_TYPE, "application/pdf"),))


def printer_attrs(proxy: IppProxy, queue: str) -> dict[str, Any]:
    reply = ipp(proxy, queue, Operation.GET_PRINTER_ATTRIBUTES)
    group = reply.group(Tag.PRINTER_ATTRIBUTES)
    return {} if group is None else {a.name: a.value if len(a.values) == 1 else a.plain
                                     for a in group.attributes}


def printer_names(proxy: IppProxy) -> list[str]:
    """The queues CUPS-Get-Printers lists (what ``lpstat -a`` shows through a cupsd)."""
    msg = build(Operation.CUPS_GET_PRINTERS, None, user="student")
    reply = parse_reply(http_exchange(proxy.port, post_request(encode(msg), "/", proxy.port),
                                      timeout=60), msg.request_id)
    return [str(g.get("printer-name").value) for g in reply.groups  # type: ignore[union-attr]
            if g.tag == Tag.PRINTER_ATTRIBUTES]


def job_state(proxy: IppProxy, queue: str, job_id: int) -> int:
    reply = ipp(proxy, queue, Operation.GET_JOB_ATTRIBUTES, op_attrs=(
        Attribute.single("job-id", Tag.INTEGER, job_id),))
    assert reply.code == Status.SUCCESSFUL_OK, status_name(reply.code)
    a = reply.get(Tag.JOB_ATTRIBUTES, "job-state")
    assert a is not None
    return int(a.value)


def test_a_queue_added_on_node_1_takes_jobs_on_node_2(
        tmp_path: Path, pg_url: str, printer: Printer) -> None:  # noqa: F811
    spool = tmp_path / "shared-spool"
    one, two = (node(tmp_path, "node-1", pg_url, spool, printer),
                node(tmp_path, "node-2", pg_url, spool, printer))
    try:
        start_all([one, two])
        assert ipp(two, "annex", Operation.GET_PRINTER_ATTRIBUTES).code == \
            Status.CLIENT_ERROR_NOT_FOUND

        r = cmd(one, "queue", "add", "annex", f"destination={printer.uri}",
                "location=Annex")
        assert r.returncode == 0, r.stderr
        wait_for("node 2 to know the new queue", lambda: ipp(
            two, "annex", Operation.GET_PRINTER_ATTRIBUTES).code == Status.SUCCESSFUL_OK, 30)
        seen = dt.datetime.now(dt.UTC)
        entry = json.loads(cmd(one, "--json", "audit", "--name", "annex").stdout)[0]
        committed = dt.datetime.fromisoformat(entry["at"])   # written in the change's commit
        print(f"\nnew queue seen by node 2 at most {(seen - committed).total_seconds():.2f} s after "
              f"its commit (catalog_poll_interval = {POLL}, test polls every 0.1 s)")
        assert printer_attrs(two, "annex")["printer-location"] == "Annex"
        assert printer_names(two) == ["annex", PROVISIONED]

        reply = print_job(two, "annex")
        assert reply.code == Status.SUCCESSFUL_OK, status_name(reply.code)
        first = int(reply.get(Tag.JOB_ATTRIBUTES, "job-id").value)  # type: ignore[union-attr]
        wait_for("the job printed", lambda: job_state(two, "annex", first) == 9, 60)

        r = cmd(one, "queue", "pause", "annex")
        assert r.returncode == 0, r.stderr
        wait_for("node 2 to show the pause", lambda: printer_attrs(two, "annex")[
            "printer-state"] == 5, 30)
        attrs = printer_attrs(two, "annex")
        assert "paused" in str(attrs["printer-state-reasons"])
        printed = len(printer.summary()["jobs"])
        reply = print_job(two, "annex")
        assert reply.code == Status.SUCCESSFUL_OK, status_name(reply.code)
        second = int(reply.get(Tag.JOB_ATTRIBUTES, "job-id").value)  # type: ignore[union-attr]
        time.sleep(1.5)                                # ten forwarder polls: still waiting
        assert job_state(two, "annex", second) == 3     # pending
        assert len(printer.summary()["jobs"]) == printed

        assert cmd(one, "queue", "resume", "annex").returncode == 0
        wait_for("the held-back job printed", lambda: job_state(two, "annex", second) == 9,
                 60)

        # Pause-Printer over IPP on node 1 (CUPS's cupsdisable): node 2 shows it too.
        assert ipp_as_admin(one, "annex", Operation.PAUSE_PRINTER).code == \
            Status.SUCCESSFUL_OK
        wait_for("node 2 to show the IPP pause", lambda: printer_attrs(two, "annex")[
            "printer-state"] == 5, 30)
        assert ipp_as_admin(one, "annex", Operation.RESUME_PRINTER).code == \
            Status.SUCCESSFUL_OK
        wait_for("node 2 to show the IPP resume", lambda: printer_attrs(two, "annex")[
            "printer-state"] != 5, 30)

        r = cmd(two, "queue", "set", PROVISIONED, "info=changed")
        assert r.returncode == 2 and "provisioned" in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1

        assert cmd(two, "queue", "delete", "annex").returncode == 0
        wait_for("node 1 to forget the queue", lambda: print_job(
            one, "annex").code == Status.CLIENT_ERROR_NOT_FOUND, 30)
        audit = cmd(one, "--json", "audit", "--name", "annex")
        assert audit.returncode == 0, audit.stderr
        for action in ("create", "pause", "resume", "delete"):
            assert f'"action": "{action}"' in audit.stdout
        # Audited as the proven admin (the token), never as the name they sent.
        assert '"via": "ipp"' in audit.stdout and '"actor": "token:tests"' in audit.stdout
        assert '"actor": "root"' not in audit.stdout
        for n in (one, two):
            assert "Traceback" not in n.log(), n.log()[-4000:]
    except BaseException:
        print(one.log()[-3000:], two.log()[-3000:])
        raise
    finally:
        one.stop()
        two.stop()


def job_attribute(proxy: IppProxy, queue: str, job_id: int, name: str) -> Any:
    reply = ipp(proxy, queue, Operation.GET_JOB_ATTRIBUTES, op_attrs=(
        Attribute.single("job-id", Tag.INTEGER, job_id),
        Attribute.single("requested-attributes", Tag.KEYWORD, "all")))
    a = reply.get(Tag.JOB_ATTRIBUTES, name)
    return None if a is None else a.value


def test_prices_and_rules_changed_live_apply_to_the_next_job(tmp_path: Path) -> None:
    """One node with accounting: a cost model made and changed with ``ippproxy cmd`` prices
    the next job at once, and a rule added the same way refuses the next job."""
    proxy = IppProxy(tmp_path / "node", queues=[{"name": "desk"}])
    proxy.config_path.write_text(proxy.config_path.read_text().replace(
        "[virtual_printer]", f"catalog_poll_interval = {POLL}\n[virtual_printer]", 1)
        + "[accounting]\nenabled = true\n[analysis]\nworkers = 1\n")
    try:
        proxy.start()
        made = subprocess.run([*ippproxy_command(), "cmd", "--config", str(proxy.config_path),
                               "add-internal-user", "student", "--unrestricted",
                               "--password-file", "-"], input="student-pw\n", capture_output=True,
                              text=True, timeout=60, check=False)
        assert made.returncode == 0, made.stderr
        for step in (("cost-model", "set", "page", 'mono="0.10"', 'color="0.10"'),
                     ("option", "set", "accounting.default_cost_model", "page")):
            r = cmd(proxy, *step)
            assert r.returncode == 0, r.stderr

        def estimate() -> str | None:
            reply = print_job(proxy, "desk")
            assert reply.code == Status.SUCCESSFUL_OK, status_name(reply.code)
            job = int(reply.get(Tag.JOB_ATTRIBUTES, "job-id").value)  # type: ignore[union-attr]
            return str(job_attribute(proxy, "desk", job, "ippproxy-cost-estimate"))

        wait_for("the new cost model to price jobs",
                 lambda: estimate() == "0.10 EUR", 30)
        assert cmd(proxy, "cost-model", "set", "page", 'mono="0.35"',
                   'color="0.35"').returncode == 0
        wait_for("the changed price", lambda: estimate() == "0.35 EUR", 30)

        assert cmd(proxy, "rule", "add", "no-pdf", "type=allowed-formats",
                   'values=["text/plain"]').returncode == 0
        wait_for("the new rule to refuse PDF", lambda: print_job(
            proxy, "desk").code != Status.SUCCESSFUL_OK, 30)
        assert "Traceback" not in proxy.log(), proxy.log()[-4000:]
    finally:
        proxy.stop()
