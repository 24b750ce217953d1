"""Crash safety end to end: ``kill -9`` of the real server loses no acknowledged job and
prints none twice (issue 3, "Done when": crash safety).

1. The destination is a loopback port where nothing listens. 50 Print-Jobs are answered
   successful-ok; the server is killed with SIGKILL and restarted on the same var dir; all 50
   jobs are listed by Get-Jobs which-jobs=all. Then a real printer (ippeveprinter, keeping its
   files with -k) starts on that port: every job reaches ``completed`` and the printer holds
   each document exactly once, byte for byte (sha256).
2. A large job is being forwarded to ippeveprinter when the server gets SIGKILL, once in the
   middle of the transfer and once right after the printer has the whole document. After the
   restart the printer has completed exactly one job: after the transfer, with the complete
   document; mid-transfer, ippeveprinter itself completes the cut-off upload (it prints what it
   received), so the one print may be truncated, but there is never a second one.
"""

from __future__ import annotations

import hashlib
import random
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from support.server import IppProxy, free_port
from support.soak import SCALE

from ippproxy.ipp import Attribute, Operation, Tag
from testprinters.eve import EvePrinter
from testprinters.gate import SendDocumentGate

from .docs import make_pdf, sha256
from .ipp_client import build, expect_ok, get_jobs, job_dicts, print_job, send

FAST_RETRY = {"retry_initial": 0.2, "retry_max": 1.0, "poll_interval": 0.2,
              "connect_timeout": 1.0, "attributes_ttl": 1.0}
TERMINAL = {7, 8, 9}  # canceled, aborted, completed (RFC 8011 §5.3.7)
PENDING, PENDING_HELD, PROCESSING, CANCELED, COMPLETED = 3, 4, 5, 7, 9


def wait_for(what: str, check: Callable[[], Any], timeout: float = 60.0,
             detail: Callable[[], str] = lambda: "") -> Any:
    deadline = time.monotonic() + timeout
    delay = 0.05
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}. {detail()}")
        time.sleep(delay)
        delay = min(delay * 1.5, 0.5)


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def documents(eve: EvePrinter) -> list[Path]:
    """Documents the printer kept (-k); its .prn files are the print command's output."""
    return [p for p in eve.spooled_files() if p.suffix != ".prn"]


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[list[Any]]:
    """Things to stop at the end, in reverse order (server first, then printers)."""
    things: list[Any] = []
    yield things
    for thing in reversed(things):
        thing.stop()


def lose_unsynced_files(spool: Path) -> int:
    """What a power cut leaves of spool files that were never fsync'd: nothing, or an
    empty file (ext4 delayed allocation). Small documents have no file at all: they are
    made durable by the copy committed with their job (jobs/spool.py); returns how many
    document files there were."""
    names = sorted(p for p in spool.iterdir() if re.fullmatch(r"[0-9a-f]{32}", p.name))
    for i, p in enumerate(names):
        if i % 2:
            p.unlink()
        else:
            p.write_bytes(b"")
    return len(names)


@pytest.mark.parametrize("power_cut", [False, True], ids=["kill9", "kill9+lost-page-cache"])
def test_fifty_acknowledged_jobs_survive_kill9(tmp_path: Path, stack: list[Any],
                                               power_cut: bool) -> None:
    dest_port = free_port()
    server = IppProxy(tmp_path / "proxy", queues=[
        {"name": "q", "destination": f"ipp://127.0.0.1:{dest_port}/ipp/print"}],
        forwarding=FAST_RETRY)
    eve = EvePrinter("CrashEve", port=dest_port, keep_files=True,
                     spool_dir=tmp_path / "eve-spool")
    stack.extend([eve, server])
    server.start()
    uri, path = server.uri("q"), server.path("q")

    digests: dict[int, str] = {}
    for i in range(50):
        pdf = make_pdf(f"crash job {i} {time.time_ns()}")
        job_id = print_job(server.port, uri, pdf, name=f"crash-{i}", path=path)
        assert job_id not in digests, f"job-id {job_id} reused"
        digests[job_id] = sha256(pdf)

    server.kill9()
    if power_cut:
        # These one-page PDFs live in the job store, so not one file is lost: the test
        # shows that forwarding needs none.
        assert lose_unsynced_files(server.directory / "spool") == 0
    server.start()
    jobs = get_jobs(server.port, uri, "all", path=path)
    listed = {j["job-id"]: j for j in jobs}
    assert set(listed) == set(digests), (
        f"missing after kill -9: {sorted(set(digests) - set(listed))}, "
        f"unexpected: {sorted(set(listed) - set(digests))}")
    # The destination was never up: nothing can have completed, nor been aborted for a
    # damaged document (pending, or processing while the forwarder retries).
    assert {j["job-state"] for j in jobs} <= {PENDING, PROCESSING}, jobs

    eve.start()

    def all_completed() -> bool:
        done = get_jobs(server.port, uri, "completed", path=path)
        return len(done) == 50 and all(j["job-state"] == COMPLETED for j in done)

    wait_for("all 50 jobs completed", all_completed, 90,
             lambda: f"states: {Counter(j['job-state'] for j in get_jobs(server.port, uri, 'all', path=path))}")
    received = Counter(file_digest(p) for p in documents(eve))
    expected = Counter(digests.values())
    missing = expected - received
    twice = {d: n for d, n in received.items() if n > 1}
    assert not missing, f"{len(missing)} document(s) never reached the printer intact"
    assert not twice, f"{len(twice)} document(s) printed more than once"
    assert received == expected


def eve_jobs(eve: EvePrinter, which: str) -> list[dict[str, Any]]:
    msg = build(Operation.GET_JOBS, eve.uri, op_attrs=[
        Attribute.single("which-jobs", Tag.KEYWORD, which),
        Attribute.multi("requested-attributes", Tag.KEYWORD, ["job-id", "job-state"])])
    return job_dicts(expect_ok(send(eve.port, msg, path="/ipp/print")))


@pytest.mark.parametrize("moment", ["mid-transfer", "after-transfer"])
def test_kill9_while_forwarding_does_not_print_twice(tmp_path: Path, stack: list[Any],
                                                     moment: str) -> None:
    eve = EvePrinter("ForwardEve", keep_files=True, spool_dir=tmp_path / "eve-spool")
    stack.append(eve)
    eve.start()
    server = IppProxy(tmp_path / "proxy", queues=[{"name": "q", "destination": eve.uri}],
                      forwarding=FAST_RETRY)
    stack.append(server)
    server.start()
    uri, path = server.uri("q"), server.path("q")
    pdf = make_pdf(f"big {moment}", padding=32 << 20)
    digest, size = sha256(pdf), len(pdf)
    job_id = print_job(server.port, uri, pdf, name=f"big-{moment}", path=path)
    del pdf

    def sizes() -> list[int]:
        return [p.stat().st_size for p in eve.spool_dir.iterdir() if p.is_file()]

    if moment == "mid-transfer":
        seen = wait_for("the transfer to start", lambda: [s for s in sizes() if s > 0], 60)
    else:
        seen = wait_for("the printer to have the whole document",
                        lambda: [s for s in sizes() if s >= size], 60)
    server.kill9()
    print(f"killed at {moment}: printer file sizes {seen} of {size}")

    server.start()

    def terminal() -> dict[str, Any] | None:
        jobs = {j["job-id"]: j for j in get_jobs(server.port, uri, "all", path=path)}
        job = jobs.get(job_id)
        assert job is not None, f"job {job_id} lost after kill -9"
        return job if job["job-state"] in TERMINAL else None

    job = wait_for(f"job {job_id} to finish", terminal, 90)
    assert job["job-state"] == COMPLETED, job
    copies = [p for p in documents(eve) if p.stat().st_size == size
              and file_digest(p) == digest]
    completed = [j for j in eve_jobs(eve, "completed") if j["job-state"] == COMPLETED]
    detail = (f"its files: {[(p.name, p.stat().st_size) for p in eve.spooled_files()]}; "
              f"its jobs: {eve_jobs(eve, 'completed')}; ippproxy job: {job}")
    assert len(completed) == 1, f"the printer completed {len(completed)} jobs; {detail}"
    if moment == "after-transfer":
        assert len(copies) == 1, f"the printer holds {len(copies)} complete copies; {detail}"
    else:
        # ippeveprinter completes a job whose upload was cut off (it prints what it received),
        # and then ippproxy rightly does not send it again: one print, maybe truncated.
        assert len(copies) <= 1, f"the printer holds {len(copies)} complete copies; {detail}"
        if not copies:
            print(f"note: the printer completed a truncated copy; {detail}")


def test_kill9_between_create_job_and_send_document(tmp_path: Path,
                                                    stack: list[Any]) -> None:
    """The kill lands after the printer answered Create-Job and before it has the document:
    ippeveprinter keeps that empty job (pending-held, job-data-insufficient) and answers
    every other Create-Job with server-error-busy until it ends. After the restart the
    forwarder finds it by our job-uuid, cancels it and sends the job again: printed once,
    and the printer takes the next job."""
    eve = EvePrinter("GateEve", keep_files=True, spool_dir=tmp_path / "eve-spool")
    stack.append(eve)
    eve.start()
    gate = SendDocumentGate(eve.uri).start()
    stack.append(gate)
    gate.hold.set()
    server = IppProxy(tmp_path / "proxy", queues=[{"name": "q", "destination": gate.uri}],
                      forwarding=FAST_RETRY)
    stack.append(server)
    server.start()
    uri, path = server.uri("q"), server.path("q")
    pdf = make_pdf(f"gated {time.time_ns()}")
    job_id = print_job(server.port, uri, pdf, name="gated", path=path)
    assert gate.held.wait(60), f"no Send-Document reached the printer: {gate.operations}"
    server.kill9()
    orphans = eve_jobs(eve, "not-completed")
    assert [j["job-state"] for j in orphans] == [PENDING_HELD], orphans
    gate.hold.clear()
    server.start()

    def completed(wanted: int) -> Callable[[], dict[str, Any] | None]:
        def check() -> dict[str, Any] | None:
            job = {j["job-id"]: j for j in get_jobs(server.port, uri, "all", path=path)}[wanted]
            return job if job["job-state"] in TERMINAL else None
        return check

    def detail() -> str:
        return f"printer's jobs: {eve_jobs(eve, 'all')}"

    job = wait_for(f"job {job_id} to finish", completed(job_id), 60, detail)
    assert job["job-state"] == COMPLETED, job
    after = print_job(server.port, uri, make_pdf(f"next {time.time_ns()}"), name="next",
                      path=path)
    assert wait_for("the next job to finish", completed(after), 60, detail)["job-state"] \
        == COMPLETED
    states = Counter(j["job-state"] for j in eve_jobs(eve, "all"))
    assert states == Counter({CANCELED: 1, COMPLETED: 2}), states
    copies = [p for p in documents(eve) if file_digest(p) == sha256(pdf)]
    assert len(copies) == 1, f"the printer holds {len(copies)} copies; {detail()}"


# -- crash loops: kill -9 again and again while jobs arrive and are forwarded ----------------

SOAK_KILLS = 10 * SCALE  # `make soak`: far past the few kills of `make test`


def printed_names(eve: EvePrinter) -> Counter[str]:
    """The job-name of each job the printer completed (it forgets jobs after a minute)."""
    msg = build(Operation.GET_JOBS, eve.uri, op_attrs=[
        Attribute.single("which-jobs", Tag.KEYWORD, "completed"),
        Attribute.multi("requested-attributes", Tag.KEYWORD, ["job-name", "job-state"])])
    jobs = job_dicts(expect_ok(send(eve.port, msg, path="/ipp/print")))
    return Counter(j["job-name"] for j in jobs if j["job-state"] == COMPLETED)


def crash_loop(tmp_path: Path, stack: list[Any], kills: int, jobs_per_round: int = 5) -> None:
    """Each round: ``jobs_per_round`` Print-Jobs are answered successful-ok, the server gets
    SIGKILL at a random moment of their forwarding and is restarted. After each restart
    every job acknowledged so far is listed, and the round's jobs all complete, each
    printed exactly once. A kill cuts at most the one transfer in flight (a queue sends
    one job at a time, forwarding/order.py); ippeveprinter prints such a cut-off upload as
    it is and ippproxy rightly does not send it again, so that document may arrive
    truncated: at most one per kill."""
    eve = EvePrinter("LoopEve", keep_files=True, spool_dir=tmp_path / "eve-spool")
    stack.append(eve)
    eve.start()
    server = IppProxy(tmp_path / "proxy", queues=[{"name": "q", "destination": eve.uri}],
                      forwarding=FAST_RETRY)
    stack.append(server)
    server.start()
    uri, path = server.uri("q"), server.path("q")
    rng = random.Random(kills)  # the same kill moments on every run of the same size
    digests: dict[int, str] = {}
    for k in range(kills):
        names = [f"loop-{k}-{i}" for i in range(jobs_per_round)]
        for name in names:
            pdf = make_pdf(f"{name} {time.time_ns()}")
            job_id = print_job(server.port, uri, pdf, name=name, path=path)
            assert job_id not in digests, f"job-id {job_id} reused"
            digests[job_id] = sha256(pdf)
        time.sleep(rng.uniform(0.0, 0.4))  # somewhere in the forwarding of the round's jobs
        server.kill9()
        server.start()
        listed = {j["job-id"] for j in get_jobs(server.port, uri, "all", path=path)}
        assert set(digests) <= listed, f"kill {k + 1}: lost {sorted(set(digests) - listed)}"

        def round_done(names: list[str] = names) -> bool:
            jobs = get_jobs(server.port, uri, "all", path=path)
            return all(j["job-state"] == COMPLETED for j in jobs if j["job-name"] in names)

        wait_for(f"round {k + 1}'s jobs to complete", round_done, 90,
                 lambda: f"states: {get_jobs(server.port, uri, 'all', path=path)}")
        printed = printed_names(eve)
        assert {n: printed[n] for n in names} == dict.fromkeys(names, 1), (
            f"kill {k + 1}: printed {printed}")
    received = Counter(file_digest(p) for p in documents(eve))
    expected = Counter(digests.values())
    assert not {d: n for d, n in received.items() if n > 1}, "a document printed twice"
    assert len(expected - received) <= kills, f"{len(expected - received)} documents lost"


def test_acknowledged_jobs_survive_a_few_kills_in_a_row(tmp_path: Path,
                                                        stack: list[Any]) -> None:
    crash_loop(tmp_path, stack, kills=3)


@pytest.mark.soak
def test_acknowledged_jobs_survive_a_crash_loop(tmp_path: Path, stack: list[Any]) -> None:
    crash_loop(tmp_path, stack, kills=SOAK_KILLS)
