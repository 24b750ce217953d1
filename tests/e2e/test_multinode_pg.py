"""Several ``ippproxy serve`` processes on one throwaway PostgreSQL (issue 5, "several
nodes, one database"), through real IPP.

* Two nodes share the database and ONE spool directory (the multi-node deployment rule,
  README "Several nodes"): whichever node's forwarder claims a job can read its document.
  Both forward to one virtual printer (``python -m ippproxy.virtualprinter``, its own
  process), whose control endpoint lists every job it received with our job-uuid.
* One restricted user whose balance pays for exactly 100 one-page jobs sends 200
  concurrent Print-Jobs, half to each node: all are ``successful-ok``, exactly 100 pending
  and 100 held ``account-limit-reached``; the balance ends at exactly 0 with 100 debit
  rows; each accepted job reaches the printer exactly once; job-ids are unique per queue.
* One node on PostgreSQL: print -> completed, and a held job survives ``kill -9``
  (recovery) and prints after Release-Job.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pikepdf
import pytest
import sqlalchemy as sa
from support.cmd import run_cmd
from support.postgres import pg_url, postgres_cluster  # noqa: F401
from support.server import IppProxy, TomlValue, free_port

from ippproxy.db import make_engine
from ippproxy.ipp import Attribute, Message, Operation, Status, Tag, decode, encode

from .ipp_client import build, status_message, status_name
from .wire import http_exchange, post_request

ROOT = Path(__file__).resolve().parents[2]
QUEUE = "shared"
PRICE_CENTS = 10          # cost model "page": 0.10 per monochrome impression
JOBS_PAID = 100
JOBS_SENT = 200


def _accounting(fast: bool = True) -> str:
    """``fast``: the tests' timing (a forwarding poll every 0.1 s, a settlement sweep every
    0.5 s, one analysis worker); else the defaults, as a server runs (benchmarks)."""
    timing = f"""
[forwarding]
poll_interval = 0.1
[accounting]
enabled = true
unknown_users = "refuse"
settle_interval = 0.5
[analysis]
workers = 1
queue_size = {JOBS_SENT}""" if fast else '[accounting]\nenabled = true\nunknown_users = "refuse"'
    return timing + f"""
[[cost_model]]
name = "page"
mono = "0.{PRICE_CENTS:02d}"
color = "0.{PRICE_CENTS:02d}"
"""


def one_page_pdf(tag: str) -> bytes:
    import io

    doc = pikepdf.new()
    font = pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1,
                              BaseFont=pikepdf.Name.Helvetica)
    doc.pages.append(pikepdf.Page(pikepdf.Dictionary(
        Type=pikepdf.Name.Page, MediaBox=[0, 0, 595.28, 841.89],
        Resources=pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font)),
        Contents=pikepdf.Stream(doc, b"0 g BT /F1 18 Tf 72 720 Td (%s) Tj ET" % tag.encode()))))
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


class Printer:
    """``python -m ippproxy.virtualprinter`` in its own process, read through /control."""

    def __init__(self, directory: Path) -> None:
        self.port, self.control_port = free_port(), free_port()
        self.log = directory / "printer.log"
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "ippproxy.virtualprinter", "--port", str(self.port),
                 "--control-port", str(self.control_port)],
                cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while True:
            try:
                self.summary()
                return
            except OSError:
                assert self.proc.poll() is None, self.log.read_text()
                assert time.monotonic() < deadline, self.log.read_text()
                time.sleep(0.05)

    @property
    def uri(self) -> str:
        return f"ipp://127.0.0.1:{self.port}/ipp/print"

    def summary(self) -> dict[str, Any]:
        url = f"http://127.0.0.1:{self.control_port}/control"
        with urllib.request.urlopen(url, timeout=10) as resp:
            data: dict[str, Any] = json.load(resp)
            return data

    def control(self, **body: str) -> None:
        req = urllib.request.Request(f"http://127.0.0.1:{self.control_port}/control",
                                     data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            assert resp.status == 200

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def node(directory: Path, name: str, database: str, printer: Printer,
         spool: Path | None = None, server: Mapping[str, TomlValue] | None = None,
         *, fast: bool = True) -> IppProxy:
    """A server on ``database``; with ``spool``, one of several nodes sharing it;
    ``server``: settings of its ``[server]`` table; ``fast``: the tests' timing
    (``_accounting``)."""
    proxy = IppProxy(directory / name, queues=[
        {"name": QUEUE, "destination": printer.uri, "cost_model": "page"}], server=server)
    storage = f'database = "{database}"\nspool = "{spool or proxy.directory / "spool"}"'
    if spool is not None:
        storage += f'\nnode = "{name}"'
    text = proxy.config_path.read_text()
    text = text.replace(f'database = "sqlite:///{proxy.directory / "ippproxy.db"}"\n'
                        f'spool = "{proxy.directory / "spool"}"', storage)
    assert storage in text
    proxy.config_path.write_text(text + _accounting(fast))
    return proxy


def start_all(nodes: list[IppProxy]) -> None:
    """Start nodes at the same time (the schema upgrade serialises itself)."""
    errors: list[BaseException] = []

    def start(n: IppProxy) -> None:
        try:
            n.start()
        except BaseException as e:  # noqa: BLE001 - re-raised below
            errors.append(e)

    threads = [threading.Thread(target=start, args=(n,)) for n in nodes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def cmd(database: str, *args: str, stdin: str = "") -> Any:
    r = run_cmd(["--database", database, "--json", *args], stdin=stdin)
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads(r.stdout)


def ipp(proxy: IppProxy, op: int, *, user: str = "student", document: bytes = b"",
        op_attrs: list[Attribute] | None = None, job_attrs: list[Attribute] | None = None,
        timeout: float = 60) -> Message:
    msg = build(op, proxy.uri(QUEUE), user=user, op_attrs=op_attrs or [],
                job_attrs=job_attrs or [])
    resp = http_exchange(proxy.port, post_request(encode(msg) + document, proxy.path(QUEUE),
                                                  proxy.port), timeout=timeout)
    assert resp.status == 200, resp
    return decode(resp.body)


def print_job(proxy: IppProxy, document: bytes, *, user: str = "student",
              job_attrs: list[Attribute] | None = None) -> Message:
    return ipp(proxy, Operation.PRINT_JOB, user=user, document=document, op_attrs=[
        Attribute.single("document-format", Tag.MIME_MEDIA_TYPE, "application/pdf")],
        job_attrs=job_attrs, timeout=120)


def job_attr(reply: Message, name: str) -> Any:
    a = reply.get(Tag.JOB_ATTRIBUTES, name)
    assert a is not None, reply
    return a.value


def get_job(proxy: IppProxy, job_id: int) -> dict[str, Any]:
    reply = ipp(proxy, Operation.GET_JOB_ATTRIBUTES, op_attrs=[
        Attribute.single("job-id", Tag.INTEGER, job_id),
        Attribute.single("requested-attributes", Tag.KEYWORD, "all")])
    assert reply.code == Status.SUCCESSFUL_OK, status_name(reply.code)
    group = reply.group(Tag.JOB_ATTRIBUTES)
    assert group is not None
    return {a.name: a.plain if len(a.values) > 1 else a.value for a in group.attributes}


def wait_for(what: str, predicate: Any, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


@pytest.fixture
def printer(tmp_path: Path) -> Iterator[Printer]:
    p = Printer(tmp_path)
    try:
        yield p
    finally:
        p.close()


def spool_name(database: str, job_id: int) -> str:
    engine = make_engine(database)
    try:
        with engine.connect() as conn:
            return str(conn.execute(sa.text(
                "SELECT d.spool_name FROM documents d JOIN jobs j ON j.uuid = d.job_uuid "
                "WHERE j.queue = :q AND j.job_id = :id"), {"q": QUEUE, "id": job_id}
            ).scalar_one())
    finally:
        engine.dispose()


def lose_document(database: str, spool: Path, job_id: int) -> None:
    """The document is gone: its spool file (if it has one) and its copy in the store
    (a small document lives there: jobs/spool.py)."""
    name = spool_name(database, job_id)
    (spool / name).unlink(missing_ok=True)
    engine = make_engine(database)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM spool_copies WHERE spool_name = :n"), {"n": name})
    finally:
        engine.dispose()


def balance(database: str, user: str = "student") -> int:
    found = [u for u in cmd(database, "list-users") if u["username"] == user]
    assert len(found) == 1, found
    return int(found[0]["balance"])


def committed_together(database: str, job_id: int) -> bool:
    """Whether the job's document row and its reservation's ledger row were written by
    one transaction (PostgreSQL's ``xmin``: both rows are never updated)."""
    engine = make_engine(database)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text(
                "SELECT d.xmin::text, l.xmin::text FROM jobs j"
                " JOIN documents d ON d.job_uuid = j.uuid"
                " JOIN acct_ledger l ON l.job_uuid = CAST(j.uuid AS uuid)"
                " WHERE j.queue = :q AND j.job_id = :id AND l.kind = 'charge'"),
                {"q": QUEUE, "id": job_id}).all()
    finally:
        engine.dispose()
    assert len(rows) == 1, rows
    return bool(rows[0][0] == rows[0][1])


def no_tracebacks(*nodes: IppProxy) -> None:
    for n in nodes:
        assert "Traceback" not in n.log(), n.log()[-4000:]


def test_two_nodes_200_concurrent_jobs_exactly_100_charged(
        tmp_path: Path, pg_url: str, printer: Printer) -> None:  # noqa: F811
    spool = tmp_path / "shared-spool"
    nodes = [node(tmp_path, "node-a", pg_url, printer, spool),
             node(tmp_path, "node-b", pg_url, printer, spool)]
    late = node(tmp_path, "node-c", pg_url, printer, spool)
    try:
        start_all(nodes)
        cmd(pg_url, "add-internal-user", "student", "--password-file", "-",
            "--balance", f"{JOBS_PAID * PRICE_CENTS / 100:.2f}", stdin="student-pw-1\n")
        doc = one_page_pdf("multinode")
        replies: list[tuple[int, Message]] = []
        lock = threading.Lock()
        go = threading.Barrier(JOBS_SENT)

        def send(i: int) -> None:
            go.wait()
            reply = print_job(nodes[i % 2], doc)
            with lock:
                replies.append((i % 2, reply))

        threads = [threading.Thread(target=send, args=(i,)) for i in range(JOBS_SENT)]
        for t in threads:
            t.start()
        # A third node starts while the two take and forward jobs: its start-up recovery
        # must leave their uploads, spooled documents and claimed jobs alone.
        late.start()
        for t in threads:
            t.join(180)
        assert len(replies) == JOBS_SENT
        codes = Counter(r.code for _, r in replies)
        assert codes == {Status.SUCCESSFUL_OK: JOBS_SENT}, \
            {status_name(c): n for c, n in codes.items()}
        # A payer problem holds the job, it never refuses it (pipeline/payer.py).
        states = Counter((job_attr(r, "job-state"), job_attr(r, "job-state-reasons"))
                         for _, r in replies)
        assert states == {(3, "none"): JOBS_PAID,
                          (4, "account-limit-reached"): JOBS_SENT - JOBS_PAID}, states
        unpaid = next(r for _, r in replies if job_attr(r, "job-state") == 4)
        assert "balance 0.00 EUR" in job_attr(unpaid, "job-state-message")
        accepted = [(n, r) for n, r in replies if job_attr(r, "job-state") == 3]
        ids = [job_attr(r, "job-id") for _, r in accepted]
        assert len(set(ids)) == JOBS_PAID, "a job-id was handed out twice"
        assert {n for n, _ in accepted} == {0, 1}, "one node accepted nothing"
        uuids = [str(get_job(late, i)["job-uuid"]).removeprefix("urn:uuid:") for i in ids]

        def delivered() -> list[str] | None:
            jobs = printer.summary()["jobs"]
            done = [j for j in jobs if j["job-state"] == "completed"]
            return [j["job-uuid"].removeprefix("urn:uuid:") for j in jobs] \
                if len(done) >= JOBS_PAID else None

        at_printer = wait_for("100 jobs printed", delivered, 120)
        assert Counter(at_printer) == Counter(uuids), "a job printed twice, or not at all"

        def all_settled() -> bool:
            return all(get_job(nodes[0], i).get("ippproxy-cost-charged") == "0.10 EUR"
                       for i in ids)

        wait_for("every job settled", all_settled, 60)
        assert balance(pg_url) == 0
        rows = cmd(pg_url, "list-transactions", "--user", "student", "--limit", "1000")
        debits = [r for r in rows if r["amount"] < 0]
        assert len(debits) == JOBS_PAID and all(r["amount"] == -PRICE_CENTS for r in debits)
        assert sum(r["amount"] for r in rows) == 0
        assert "0 changed" in late.log() and "0 orphan files removed" in late.log()
        no_tracebacks(*nodes, late)
    finally:
        for n in (*nodes, late):
            n.stop()


def test_a_starting_node_leaves_the_others_work_alone(
        tmp_path: Path, pg_url: str, printer: Printer) -> None:  # noqa: F811
    """Node b starts while node a follows two jobs at a jammed printer and (as far as b
    can tell) receives a document: b's recovery requeues none of a's claims and deletes
    none of the fresh spool files; the jobs print once when the jam clears."""
    spool = tmp_path / "shared-spool"
    a, b = node(tmp_path, "node-a", pg_url, printer, spool), \
        node(tmp_path, "node-b", pg_url, printer, spool)
    try:
        a.start()
        cmd(pg_url, "add-internal-user", "student", "--password-file", "-", "--balance", "1",
            stdin="student-pw-1\n")
        printer.control(state="jam")
        ids = [job_attr(print_job(a, one_page_pdf(f"jam {i}")), "job-id") for i in range(2)]
        wait_for("both jobs at the printer", lambda: len(printer.summary()["jobs"]) == 2)
        upload = spool / f".{'ab' * 16}.tmp"          # another node's upload under way
        deciding = spool / ("cd" * 16)                # spooled, its job row not yet written
        upload.write_bytes(b"half a document")
        deciding.write_bytes(b"a document")
        b.start()
        assert upload.exists() and deciding.exists()
        for job_id in ids:
            assert get_job(b, job_id)["job-state"] in (5, 6)   # processing(-stopped) at a
        engine = make_engine(pg_url)
        try:
            with engine.connect() as conn:
                holders = conn.execute(sa.text("SELECT node FROM jobs")).scalars().all()
        finally:
            engine.dispose()
        assert holders == ["node-a", "node-a"], "node b took over the jobs of a live node"
        printer.control(state="clear")
        for job_id in ids:
            wait_for("completed", lambda j=job_id: get_job(b, j)["job-state"] == 9)
        assert len(printer.summary()["jobs"]) == 2
        no_tracebacks(a, b)
    finally:
        b.stop()
        a.stop()


def test_one_node_on_postgresql(tmp_path: Path, pg_url: str, printer: Printer) -> None:  # noqa: F811
    """The single-node flow on PostgreSQL: print -> completed and charged, the job and its
    reservation stored by one transaction (the job store's group commit, storecommit.py);
    a held job survives kill -9 and prints after Release-Job; a job whose spooled document
    vanished is aborted (document-access-error) and refunded."""
    solo = node(tmp_path, "solo", pg_url, printer)
    try:
        solo.start()
        cmd(pg_url, "add-internal-user", "student", "--password-file", "-", "--balance", "1",
            stdin="student-pw-1\n")
        first = job_attr(print_job(solo, one_page_pdf("first")), "job-id")
        assert committed_together(pg_url, first)
        wait_for("charged", lambda: get_job(solo, first).get("ippproxy-cost-charged"))
        assert get_job(solo, first)["job-state"] == 9

        held = [Attribute.single("job-hold-until", Tag.KEYWORD, "indefinite")]
        second = job_attr(print_job(solo, one_page_pdf("second"), job_attrs=held), "job-id")
        third = job_attr(print_job(solo, one_page_pdf("third"), job_attrs=held), "job-id")
        assert {second, third} == {first + 1, first + 2}
        solo.kill9()
        solo.start()
        assert get_job(solo, second)["job-state"] == 4   # pending-held after recovery
        lose_document(pg_url, solo.directory / "spool", third)
        for job_id in (second, third):
            reply = ipp(solo, Operation.RELEASE_JOB, op_attrs=[
                Attribute.single("job-id", Tag.INTEGER, job_id)])
            assert reply.code == Status.SUCCESSFUL_OK, status_message(reply)
        wait_for("second printed", lambda: get_job(solo, second).get("ippproxy-cost-charged"))
        assert get_job(solo, second)["job-state"] == 9
        wait_for("third refunded",
                 lambda: get_job(solo, third).get("ippproxy-cost-charged") == "0.00 EUR")
        aborted = get_job(solo, third)
        assert aborted["job-state"] == 8 and "document-access-error" in str(
            aborted["job-state-reasons"])
        assert len(printer.summary()["jobs"]) == 2
        assert balance(pg_url) == 100 - 2 * PRICE_CENTS
        no_tracebacks(solo)
    finally:
        solo.stop()
