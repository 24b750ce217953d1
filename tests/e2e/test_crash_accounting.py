"""Money after ``kill -9`` (issue 14, "Done when": the crash test): the real server is
killed with SIGKILL at random moments while two clients send it Print-Jobs, on SQLite and
on PostgreSQL with two nodes sharing the database and the spool (the nodes take turns
being killed). Every other kill lands late in an intake (the moment drawn from the
intakes measured so far: analysed, reserving, creating the job), the others shortly after
an answer, while the jobs before it print and are settled (settlement, write-back). The
test prints how many kills left an orphan reservation or a missing amount to repair.

After each restart, and the one settlement sweep a start runs (``settle_interval`` is an
hour here: no other sweep happens during the test), every acknowledged job is listed, and
once the jobs still queued have printed:

* no charge is ``reserved`` without a job (an intake killed between reserve and create
  left one: its node refunded it at start, with the reason "job never created");
* every completed job shows its settled amount (``ippproxy-cost-charged`` equals the
  charge), including a job whose write-back a kill cut off;
* every balance equals opening balance plus ledger (``ledger.audit``).

`make test` kills 10 times (5 on each database); `make soak` 50 times (25 on each at the
default SOAK_SCALE of 10).
"""

from __future__ import annotations

import random
import re
import statistics
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, Self

import pytest
from support.postgres import pg_url, postgres_cluster  # noqa: F401
from support.server import IppProxy
from support.soak import SCALE

from ippproxy.accounting import AccountingService, Pricing, ledger
from ippproxy.accounting.money import format_money
from ippproxy.accounting.txn import in_transaction
from ippproxy.db import make_engine

from .docs import make_pdf
from .ipp_client import get_jobs, print_job

QUEUE = "q"
USERS = ("alice", "bob", "carol")
TERMINAL = {7, 8, 9}  # canceled, aborted, completed (RFC 8011 §5.3.7)
COMPLETED = 9
SOAK_KILLS = max(5, 5 * SCALE // 2)  # on each database
JOB_ATTRS = ("job-id", "job-state", "job-uuid", "ippproxy-cost-charged")


def _accounting() -> str:
    return """
[accounting]
enabled = true
initial_balance = "1000.00"
settle_interval = 3600.0
orphan_lease = 60.0
default_cost_model = "page"
[analysis]
workers = 1
[[cost_model]]
name = "page"
mono = "0.07"
color = "0.31"
job_fee = "0.02"
"""


def _node(directory: Path, name: str, database: str, spool: Path | None) -> IppProxy:
    """A server on ``database``, printing to its built-in printer; with ``spool``, a node
    named ``name`` sharing that spool with the others."""
    proxy = IppProxy(directory / name, queues=[{"name": QUEUE}],
                     forwarding={"poll_interval": 0.1})
    own = (f'database = "sqlite:///{proxy.directory / "ippproxy.db"}"\n'
           f'spool = "{proxy.directory / "spool"}"')
    storage = f'database = "{database}"\nspool = "{spool or proxy.directory / "spool"}"'
    if spool is not None:
        storage += f'\nnode = "{name}"'
    text = proxy.config_path.read_text()
    assert own in text
    proxy.config_path.write_text(text.replace(own, storage) + _accounting())
    return proxy


class Sender:
    """Two threads sending Print-Jobs to one node until stopped (two intakes at a time
    share the job store's group commit): what was acknowledged, how long an intake takes
    (request to answer), and when the last request started."""

    def __init__(self, server: IppProxy, rng: random.Random, threads: int = 2) -> None:
        self.server = server
        self.acked: list[int] = []
        self.latencies: list[float] = []
        self.requests = 0
        self._stop = threading.Event()
        self._cond = threading.Condition()
        self._threads = [threading.Thread(target=self._run, args=(rng.random(),), daemon=True)
                         for _ in range(threads)]

    def _run(self, seed: float) -> None:
        server, rng = self.server, random.Random(seed)
        while not self._stop.is_set():
            pdf = make_pdf(f"money {uuid.uuid4()}", pages=rng.randint(1, 2))
            with self._cond:
                self.requests += 1
                sent = time.monotonic()
                self._cond.notify_all()
            try:
                job_id = print_job(server.port, server.uri(QUEUE), pdf,
                                   user=rng.choice(USERS), path=server.path(QUEUE))
            except (OSError, AssertionError, ValueError):
                time.sleep(0.05)
                continue  # the node was killed: an unanswered request is not acknowledged
            with self._cond:
                self.acked.append(job_id)
                self.latencies.append(time.monotonic() - sent)
                self._cond.notify_all()

    def wait(self, predicate: Callable[[], bool], timeout: float = 30.0) -> None:
        with self._cond:
            assert self._cond.wait_for(predicate, timeout), "the sender is stuck"

    def __enter__(self) -> Self:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(30)


def kill_at_a_random_moment(victim: IppProxy, sender: Sender, rng: random.Random,
                            moment: str) -> None:
    """SIGKILL ``victim`` late in an intake (analysed, reserving, creating the job), or
    shortly after an answer, while the jobs before it print and are settled."""
    sender.wait(lambda: len(sender.acked) >= 2)      # warm, and how long an intake takes
    latency = statistics.median(sender.latencies)
    if moment == "intake":
        n = sender.requests
        sender.wait(lambda: sender.requests > n)
        time.sleep(latency * rng.uniform(0.4, 1.0))
    else:
        n = len(sender.acked)
        sender.wait(lambda: len(sender.acked) > n)
        time.sleep(rng.uniform(0.0, 0.3))
    victim.kill9()


def _jobs(server: IppProxy) -> dict[int, dict[str, Any]]:
    return {j["job-id"]: j for j in get_jobs(server.port, server.uri(QUEUE), "all",
                                             attrs=JOB_ATTRS, path=server.path(QUEUE))}


def _problems(server: IppProxy, accounting: AccountingService,
              acked: list[int]) -> list[str]:
    """What is wrong with the money now (empty: all is well)."""
    jobs = _jobs(server)
    problems = [f"acknowledged job {j} lost" for j in acked if j not in jobs]
    uuids = {uuid.UUID(j["job-uuid"].removeprefix("urn:uuid:")): j for j in jobs.values()}
    for r in accounting.reserved_charges():
        job = uuids.get(r.job_uuid)
        if job is None:
            problems.append(f"charge {r.job_uuid} reserved by {r.node!r} without a job")
        elif job["job-state"] in TERMINAL:
            problems.append(f"job {job['job-id']} finished, its charge still reserved")
    for job_uuid, job in uuids.items():
        if job["job-state"] not in TERMINAL:
            problems.append(f"job {job['job-id']} still in state {job['job-state']}")
            continue
        charge = accounting.get(job_uuid)
        if charge is None:
            problems.append(f"job {job['job-id']} has no charge")
        elif job["job-state"] == COMPLETED:
            want = format_money(charge.charged, "EUR")
            if job.get("ippproxy-cost-charged") != want:
                problems.append(f"completed job {job['job-id']} shows "
                                f"{job.get('ippproxy-cost-charged')!r}, charged {want}")
    bad = in_transaction(accounting.engine, ledger.audit)
    problems += [f"account {a}: balance {b} != opening + ledger {e}" for a, b, e in bad]
    return problems


def _settled(server: IppProxy, accounting: AccountingService, acked: list[int],
             what: str) -> None:
    deadline = time.monotonic() + 90
    while problems := _problems(server, accounting, acked):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: {problems[:10]}")
        time.sleep(0.2)


def _repairs(nodes: list[IppProxy]) -> tuple[int, int]:
    logs = "".join(n.log() for n in nodes)
    orphans = len(re.findall(r"was never stored: .* refunded \(job never created", logs))
    written = len(re.findall(r"its charged amount was missing; written now", logs))
    return orphans, written


def money_crash_loop(tmp_path: Path, database: str, names: list[str], kills: int) -> None:
    spool = tmp_path / "shared-spool" if len(names) > 1 else None
    nodes = [_node(tmp_path, name, database, spool) for name in names]
    engine = make_engine(database)
    accounting = AccountingService(engine, Pricing())
    rng = random.Random(kills * len(names))  # the same kill moments on every run
    acked: list[int] = []
    try:
        for n in nodes:
            n.start()
        for k in range(kills):
            victim = nodes[k % len(nodes)]
            moment = ("intake", "settlement")[(k // len(nodes)) % 2]
            with Sender(victim, rng) as sender:
                kill_at_a_random_moment(victim, sender, rng, moment)
            acked += sender.acked
            t0 = time.monotonic()
            victim.start()
            t1 = time.monotonic()
            _settled(victim, accounting, acked, f"after kill {k + 1} of {victim.directory.name}")
            print(f"kill {k + 1} ({moment}): {len(sender.acked)} acked, restart {t1 - t0:.1f} s, "
                  f"settled {time.monotonic() - t1:.1f} s")
        orphans, written = _repairs(nodes)
        print(f"{kills} kills, {len(acked)} jobs acknowledged: {orphans} orphan reservations "
              f"refunded at start, {written} missing amounts written into their jobs")
        assert acked, "no job was acknowledged"
        for n in nodes:
            assert "Traceback" not in n.log()
    finally:
        for n in nodes:
            n.stop()
        engine.dispose()


def test_money_survives_kill9_sqlite(tmp_path: Path) -> None:
    money_crash_loop(tmp_path, f"sqlite:///{tmp_path / 'money.db'}", ["solo"], kills=5)


def test_money_survives_kill9_postgresql_two_nodes(tmp_path: Path, pg_url: str) -> None:  # noqa: F811
    money_crash_loop(tmp_path, pg_url, ["n1", "n2"], kills=5)


@pytest.mark.soak
def test_money_survives_a_crash_loop_sqlite(tmp_path: Path) -> None:
    money_crash_loop(tmp_path, f"sqlite:///{tmp_path / 'money.db'}", ["solo"],
                     kills=SOAK_KILLS)


@pytest.mark.soak
def test_money_survives_a_crash_loop_postgresql_two_nodes(tmp_path: Path,
                                                          pg_url: str) -> None:  # noqa: F811
    money_crash_loop(tmp_path, pg_url, ["n1", "n2"], kills=SOAK_KILLS)

