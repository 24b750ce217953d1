"""Connection caps (issue 15 part 6): 1,100 idle connections against a server whose
descriptor limit is 1,024 (soft and hard, set for its process) while a normal client still
prints; connections over the per-address cap are closed at once."""

from __future__ import annotations

import contextlib
import resource
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.server import IppProxy, tracebacks

from .docs import make_pdf
from .ipp_client import get_jobs, print_job

FD_LIMIT = 1024
IDLE = 1100
SOURCES = 12             # 127.0.0.2 ..: 92 idle connections each, under the per-address cap
PER_ADDRESS = 100


@pytest.fixture
def many_fds() -> Iterator[None]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = 2 * IDLE + 512
    if soft < need:
        assert hard == resource.RLIM_INFINITY or hard >= need, "test needs more descriptors"
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def _idle(port: int, source: str) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(source, 0))
    s.setblocking(False)
    return s


def _closed_by_peer(s: socket.socket, wait: float) -> bool:
    s.settimeout(wait)
    try:
        return s.recv(1) == b""
    except TimeoutError:
        return False
    except ConnectionError:
        return True


def test_idle_connections_cannot_lock_out_a_printing_client(
        tmp_path: Path, many_fds: None) -> None:
    # header_timeout far above the test: silent connections are not reaped by time
    server = IppProxy(tmp_path, server={"header_timeout": 300.0,
                                        "max_connections_per_address": PER_ADDRESS},
                      fd_limit=FD_LIMIT)
    held: list[socket.socket] = []
    with server, contextlib.ExitStack() as stack:
        stack.callback(lambda: [s.close() for s in held])
        for i in range(IDLE):
            held.append(_idle(server.port, f"127.0.0.{2 + i % SOURCES}"))
        time.sleep(1.0)    # let the server accept them all
        started = time.monotonic()
        job_id = print_job(server.port, server.uri(), make_pdf("through the flood"))
        assert time.monotonic() - started < 15
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            states = {j["job-id"]: j["job-state"] for j in get_jobs(server.port, server.uri())}
            if states.get(job_id) == 9:
                break
            time.sleep(0.2)
        assert states.get(job_id) == 9, states
        # the oldest silent connections made room: some were closed by the server
        assert sum(_closed_by_peer(s, 0.01) for s in held[:300]) > 0

        # one address over its cap: the connections above it are closed at once
        extra = [_idle(server.port, "127.0.0.99") for _ in range(PER_ADDRESS + 20)]
        held.extend(extra)
        time.sleep(0.5)
        closed = sum(_closed_by_peer(s, 0.05) for s in extra)
        assert closed >= 20
        log = server.log()
    assert "connection limit reached" in log
    assert not tracebacks(log), log[-3000:]
