"""Slow clients (issue 15 part 6, server/deadlines.py), with real sockets against the real
server: 600 connections that send their request heads one byte at a time do not starve a
client that prints; a head trickled past ``head_timeout`` gets 408 and is closed; a body that
falls silent is closed after ``body_idle_timeout``; a long upload that keeps sending is not
cut."""

from __future__ import annotations

import contextlib
import resource
import socket
import threading
import time
from collections.abc import Iterator
from typing import Self

import pytest
from support.server import IppProxy, tracebacks

from ippproxy.ipp import Attribute, Operation, Tag, encode

from .docs import make_pdf
from .ipp_client import build, expect_ok, get_jobs, parse_reply, print_job
from .wire import http_exchange

SLOW = 600
SOURCES = 6
MAX_CONNECTIONS = 100
HEAD_TIMEOUT = 3.0
BODY_IDLE = 1.5
SLOW_HEAD = b"POST /ipp/print HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IppProxy]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = 2 * SLOW + 512
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))
    # first-byte timeout far above the test: only the head deadline and eviction act
    proxy = IppProxy(tmp_path_factory.mktemp("slow"), server={
        "header_timeout": 300.0, "head_timeout": HEAD_TIMEOUT,
        "body_idle_timeout": BODY_IDLE, "max_connections": MAX_CONNECTIONS,
        "max_connections_per_address": 1000})
    with proxy:
        yield proxy
        assert not tracebacks(proxy.log()), proxy.log()[-3000:]
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


class Trickle:
    """``SLOW`` connections, each sending its head one byte every ``pause`` seconds; a
    connection the server closes is opened again (the attacker keeps trying)."""

    def __init__(self, port: int, pause: float = 0.5) -> None:
        self.port, self.pause = port, pause
        self.closed_by_server = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def _open(self, i: int) -> socket.socket | None:
        try:
            s = socket.create_connection(("127.0.0.1", self.port), timeout=2,
                                         source_address=(f"127.0.0.{2 + i % SOURCES}", 0))
            s.sendall(SLOW_HEAD[:1])
            s.setblocking(False)
            return s
        except OSError:
            return None

    def _run(self) -> None:
        socks: list[socket.socket | None] = [self._open(i) for i in range(SLOW)]
        sent = [1] * SLOW
        while not self._stop.wait(self.pause):
            for i, s in enumerate(socks):
                if s is not None:
                    try:
                        s.send(SLOW_HEAD[sent[i] % len(SLOW_HEAD):][:1] or b"x")
                        sent[i] += 1
                        with contextlib.suppress(BlockingIOError):
                            if s.recv(4096) == b"":
                                raise ConnectionResetError
                        continue
                    except OSError:
                        self.closed_by_server += 1
                        s.close()
                socks[i], sent[i] = self._open(i), 1
        for s in socks:
            if s is not None:
                s.close()


def test_600_slow_heads_do_not_starve_a_printing_client(server: IppProxy) -> None:
    with Trickle(server.port) as trickle:
        time.sleep(2.0)     # every slot held by a slow head (600 tried, 100 slots)
        started = time.monotonic()
        job_ids = [print_job(server.port, server.uri(), make_pdf(f"through the trickle {n}"))
                   for n in range(3)]
        took = time.monotonic() - started
        deadline = time.monotonic() + 30
        done: dict[int, int] = {}
        while time.monotonic() < deadline:
            done = {j["job-id"]: j["job-state"] for j in get_jobs(server.port, server.uri())}
            if all(done.get(j) == 9 for j in job_ids):
                break
            time.sleep(0.2)
        assert all(done.get(j) == 9 for j in job_ids), done
        assert took < 10, took
        assert trickle.closed_by_server > 0


def test_a_head_trickled_past_the_deadline_gets_408(server: IppProxy) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        started = time.monotonic()
        answer = b""
        with contextlib.suppress(OSError):
            for byte in SLOW_HEAD + b"y" * 1000:
                s.sendall(bytes([byte]))
                time.sleep(0.05)
                if time.monotonic() - started > HEAD_TIMEOUT + 5:
                    break
        s.settimeout(5)
        with contextlib.suppress(OSError):
            while chunk := s.recv(4096):
                answer += chunk
        took = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 408 "), answer
    assert HEAD_TIMEOUT - 0.5 < took < HEAD_TIMEOUT + 3, took


def _print_request(uri: str, document: bytes) -> tuple[bytes, bytes]:
    msg = build(Operation.PRINT_JOB, uri, op_attrs=[
        Attribute.single("document-format", Tag.MIME_MEDIA_TYPE, "application/pdf")])
    head = b"POST /ipp/print HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/ipp\r\n" \
           b"Transfer-Encoding: chunked\r\n\r\n"
    return head, encode(msg) + document


def _chunks(body: bytes, size: int, pause: float) -> Iterator[bytes]:
    for i in range(0, len(body), size):
        part = body[i:i + size]
        yield f"{len(part):x}\r\n".encode() + part + b"\r\n"
        time.sleep(pause)
    yield b"0\r\n\r\n"


def test_a_long_upload_that_keeps_sending_is_not_cut(server: IppProxy) -> None:
    head, body = _print_request(server.uri(), make_pdf("slow but steady", padding=20000))
    size = len(body) // 15 + 1
    started = time.monotonic()
    reply = parse_reply(http_exchange(server.port, [head, *_chunks(body, size, 0.4)]))
    expect_ok(reply)
    # longer than the head deadline and many times the body's idle timeout in all
    assert time.monotonic() - started > HEAD_TIMEOUT + BODY_IDLE


def test_a_body_that_falls_silent_is_closed(server: IppProxy) -> None:
    head, body = _print_request(server.uri(), make_pdf("stops halfway", padding=20000))
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as s:
        s.sendall(head + f"{len(body) // 2:x}\r\n".encode() + body[:len(body) // 2] + b"\r\n")
        started = time.monotonic()
        with contextlib.suppress(ConnectionError):
            while s.recv(4096):
                pass
        took = time.monotonic() - started
    assert BODY_IDLE - 0.3 < took < BODY_IDLE + 3, took
