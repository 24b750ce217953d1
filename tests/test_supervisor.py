"""``server.workers``: several server processes on one port (ippproxy/supervisor.py).

Everything runs the real ``ippproxy serve`` as a subprocess and prints over real sockets:
both workers accept on the port (connections spread over them), each is a
node with its own lock, one shared job-id sequence; a worker killed is replaced and the
jobs it acknowledged are kept; SIGTERM stops them all; a worker that cannot start stops
the server with one line and exit status 2; the workers die with a killed parent.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import fcntl
import os
import re
import signal
import socket
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from ippproxy.config import Config, ConfigError, ServerConfig, StorageConfig, embedded_default
from ippproxy.config import load as load_config
from ippproxy.supervisor import worker_config, worker_count, worker_node
from testprinters.eve import EvePrinter
from tests.e2e.docs import make_pdf
from tests.e2e.ipp_client import get_jobs, print_job
from tests.support.server import IppProxy, free_port, ippproxy_command, tracebacks

COMPLETED = 9


def wait_for(what: str, check: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def ready(proxy: IppProxy) -> IppProxy:
    """``proxy`` once all its workers accept: the port answers as soon as worker 0 does,
    the ready line comes when the last one does (after the log's last start mark)."""
    wait_for("the ready line",
             lambda: "ippproxy ready:" in proxy.log().rsplit("===== start", 1)[-1])
    assert len(proxy.workers()) == 2
    return proxy


@pytest.fixture
def server(tmp_path: Path) -> Iterator[IppProxy]:
    """Two workers, one queue on an ippeveprinter of its own (a worker killed by a test
    must not take the printer with it, as the built-in one, in worker 0, would)."""
    eve = EvePrinter("WorkersEve", spool_dir=tmp_path / "eve")
    eve.start()
    proxy = IppProxy(tmp_path / "proxy", server={"workers": 2},
                     queues=[{"name": "default", "destination": eve.uri}],
                     forwarding={"poll_interval": 0.1})
    try:
        ready(proxy.start())
        yield proxy
    finally:
        proxy.stop()
        eve.stop()


def test_the_builtin_printer_runs_in_worker_0_and_prints_for_both(tmp_path: Path) -> None:
    proxy = IppProxy(tmp_path / "proxy", server={"workers": 2})
    ready(proxy.start())
    try:
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            ids = set(pool.map(lambda i: print_job(
                proxy.port, proxy.uri(), make_pdf(f"builtin {i}"), path=proxy.path()),
                range(12)))

        def printed() -> bool:
            jobs = get_jobs(proxy.port, proxy.uri(), "completed", path=proxy.path())
            return {j["job-id"] for j in jobs if j["job-state"] == COMPLETED} >= ids

        wait_for("all 12 jobs printed", printed, 60)
        # one virtual printer: a second one would have found its port taken
        assert proxy.log().count("built-in virtual printer at") == 1
        assert not tracebacks(proxy.log())
    finally:
        proxy.stop()


def accepting_pids(port: int) -> Counter[int]:
    """Which processes hold the server side of the established connections to ``port``
    (``ss`` shows the owner of each socket)."""
    out = subprocess.run(["ss", "-tnpH", "state", "established", f"( sport = :{port} )"],
                         capture_output=True, text=True, check=True).stdout
    return Counter(int(pid) for pid in re.findall(r"pid=(\d+)", out))


def test_both_workers_accept_on_the_port_as_nodes_of_one_database(server: IppProxy) -> None:
    w0, w1 = sorted(server.workers())
    spool = server.directory / "spool"
    # a node each: its own lock, holding its pid (server/instance.py)
    assert f"pid={w0}" in (spool / ".ippproxy-w0.lock").read_text()
    assert f"pid={w1}" in (spool / ".ippproxy-w1.lock").read_text()
    # Connections are spread over the workers (SO_REUSEPORT, by a hash of the
    # addresses): of 24, both get some (all on one: 2 chances in 2**24).
    clients = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(24)]
    try:
        owners = wait_for("24 accepted connections", lambda: (
            o if sum((o := accepting_pids(server.port)).values()) == 24 else None))
    finally:
        for c in clients:
            c.close()
    assert set(owners) == {w0, w1}, owners
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(lambda i: print_job(
            server.port, server.uri(), make_pdf(f"worker job {i}"), path=server.path(),
            name=f"w-{i}"), range(24)))
    assert len(set(ids)) == 24, f"job-ids given twice: {sorted(ids)}"

    def all_printed() -> bool:
        jobs = get_jobs(server.port, server.uri(), "completed", path=server.path())
        return {j["job-id"] for j in jobs if j["job-state"] == COMPLETED} >= set(ids)

    wait_for("all 24 jobs printed", all_printed, 60)
    assert server.log().count("ippproxy ready:") == 1
    assert not tracebacks(server.log())


def scrape(proxy: IppProxy, token: str) -> str:
    """``/metrics`` on a connection of its own (so it may reach either worker)."""
    return subprocess.run(
        ["curl", "-sf", "--cacert", str(proxy.cert), "--max-time", "10",
         "-H", f"Authorization: Bearer {token}", f"https://localhost:{proxy.port}/metrics"],
        capture_output=True, text=True, timeout=30, check=True).stdout


def received_by_worker(text: str) -> dict[str, float]:
    return {s.labels["worker"]: s.value for family in text_string_to_metric_families(text)
            for s in family.samples
            if s.name == "ippproxy_jobs_received_total" and s.labels.get("queue") == "default"}


def test_every_scrape_counts_the_jobs_of_both_workers(tmp_path: Path) -> None:
    """Whichever worker a scrape reaches, it answers with every worker's samples, each
    labelled with its worker: the sum is every job received (server/metrics_share.py)."""
    token = "scrape-token-of-the-workers-test"
    proxy = IppProxy(tmp_path / "proxy", server={"workers": 2, "metrics_token": token})
    ready(proxy.start())
    try:
        with concurrent.futures.ThreadPoolExecutor(4) as pool:   # a connection each
            ids = set(pool.map(lambda i: print_job(
                proxy.port, proxy.uri(), make_pdf(f"metrics {i}"), path=proxy.path()),
                range(24)))
        assert len(ids) == 24
        # Each worker publishes its own within PUBLISH_SECONDS; both got some of the
        # 24 connections (all on one: 2 chances in 2**24).
        wait_for("both workers' counts in a scrape",
                 lambda: sum(received_by_worker(scrape(proxy, token)).values()) == 24, 20)
        for _ in range(12):   # new connections: the scrapes reach both workers
            text = scrape(proxy, token)
            counts = received_by_worker(text)
            assert set(counts) == {"w0", "w1"}, counts
            assert sum(counts.values()) == 24 and min(counts.values()) > 0, counts
            # one family each, with its help and type once (the text format's rule)
            assert text.count("# TYPE ippproxy_jobs_received_total counter") == 1
        assert not tracebacks(proxy.log())
    finally:
        proxy.stop()


def test_a_killed_worker_is_replaced_and_its_jobs_are_kept(server: IppProxy) -> None:
    before = [print_job(server.port, server.uri(), make_pdf(f"before {i}"),
                        path=server.path()) for i in range(6)]
    victim = max(server.workers())
    os.kill(victim, signal.SIGKILL)
    wait_for("a new worker", lambda: len(w := server.workers()) == 2 and victim not in w)
    assert f"(pid {victim}) ended (signal SIGKILL)" in server.log()
    after = print_job(server.port, server.uri(), make_pdf("after"), path=server.path())

    def printed() -> bool:
        jobs = get_jobs(server.port, server.uri(), "completed", path=server.path())
        return {j["job-id"] for j in jobs} >= {*before, after}

    wait_for("every job printed", printed, 60)


def test_kill9_of_every_process_loses_no_acknowledged_job(tmp_path: Path) -> None:
    # Nothing listens at the destination: jobs stay pending or processing.
    proxy = IppProxy(tmp_path / "proxy", server={"workers": 2}, queues=[
        {"name": "q", "destination": f"ipp://127.0.0.1:{free_port()}/ipp/print"}],
        forwarding={"retry_initial": 0.2, "retry_max": 1.0, "connect_timeout": 1.0})
    ready(proxy.start())
    try:
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            ids = list(pool.map(lambda i: print_job(
                proxy.port, proxy.uri("q"), make_pdf(f"crash {i}"), path=proxy.path("q")),
                range(40)))
        proxy.kill9()
        ready(proxy.start())
        listed = {j["job-id"] for j in get_jobs(proxy.port, proxy.uri("q"), "all",
                                               path=proxy.path("q"))}
        assert listed == set(ids)
    finally:
        proxy.stop()


def test_sigterm_stops_every_worker(server: IppProxy) -> None:
    workers = server.workers()
    assert server.stop() == 0
    assert not [pid for pid in workers if alive(pid)]
    assert "shutting down 2 workers" in server.log()
    assert not tracebacks(server.log())


def test_the_workers_die_with_a_killed_parent(server: IppProxy) -> None:
    workers = server.workers()
    os.kill(server.pid, signal.SIGKILL)
    wait_for("the workers to exit", lambda: not [pid for pid in workers if alive(pid)])


def test_a_worker_that_cannot_start_stops_the_server(tmp_path: Path) -> None:
    proxy = IppProxy(tmp_path / "proxy", server={"workers": 2})
    spool = proxy.directory / "spool"
    spool.mkdir(parents=True)
    # Another process holds worker 1's node lock.
    fd = os.open(spool / ".ippproxy-w1.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.write(fd, b"pid=1 address=elsewhere\n")
        r = subprocess.run([*ippproxy_command(), "serve", "--config", str(proxy.config_path)],
                           capture_output=True, text=True, timeout=120,
                           stdin=subprocess.DEVNULL, check=False)
    finally:
        os.close(fd)
    assert r.returncode == 2, r.stdout + r.stderr
    assert "ippproxy serve: worker 1: another ippproxy is running" in r.stderr
    assert "ippproxy ready" not in r.stdout
    assert "Traceback" not in r.stderr
    # worker 0 was stopped too: the port is free again
    IppProxy(tmp_path / "again", port=proxy.port).start().stop()


def test_worker_names_and_counts() -> None:
    config = embedded_default()
    two = dataclasses.replace(config, server=dataclasses.replace(
        config.server, workers=2, unix_socket="/run/ippproxy.sock"))
    assert worker_count(two) == 2
    assert worker_count(dataclasses.replace(config, server=ServerConfig(workers=0))) == \
        len(os.sched_getaffinity(0))
    assert [worker_node(two, i) for i in range(2)] == ["w0", "w1"]
    paris = dataclasses.replace(two, storage=StorageConfig(node="paris"))
    assert worker_node(paris, 1) == "paris-1"
    # only worker 0 listens on the local socket (a path has one listener)
    assert worker_config(two, 0).server.unix_socket == "/run/ippproxy.sock"
    assert worker_config(two, 1).server.unix_socket == ""
    assert worker_config(two, 1).storage.node == "w1"


@pytest.mark.parametrize("value", [-1, 65])
def test_workers_out_of_range_is_a_config_error(tmp_path: Path, value: int) -> None:
    path = tmp_path / "c.toml"
    path.write_text(f"[server]\nworkers = {value}\n")
    with pytest.raises(ConfigError) as e:
        load_config(str(path))
    assert "server.workers" in str(e.value)


def test_workers_default_is_one_process() -> None:
    assert isinstance(Config().server.workers, int)
    assert worker_count(Config()) == 1
