"""The sockets of ``server.workers`` (server/listener.py ``bind`` and ``rebind``): the
supervisor holds the port bound and not listening, each worker listens on a socket of
its own on the same port (SO_REUSEPORT), and nothing else can take the port."""

from __future__ import annotations

import errno
import select
import socket

import pytest

from ippproxy.server.listener import bind, rebind


def test_workers_listen_on_their_own_sockets_of_one_held_port() -> None:
    held = bind("127.0.0.1", 0, reuse_port=True, listen=False)
    port = held[0].getsockname()[1]
    workers: list[socket.socket] = []
    try:
        # held, not listening: a connection is refused, not queued where no one accepts
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
        workers = [*rebind(held), *rebind(held)]
        assert {s.getsockname()[1] for s in workers} == {port}
        # another program (no SO_REUSEPORT) cannot take the port
        other = socket.socket()
        with pytest.raises(OSError) as e:
            other.bind(("127.0.0.1", port))
        other.close()
        assert e.value.errno == errno.EADDRINUSE
        # every connection lands in one of the workers' accept queues
        clients = [socket.create_connection(("127.0.0.1", port), timeout=2)
                   for _ in range(16)]
        accepted = 0
        while accepted < 16:
            ready, _, _ = select.select(workers, [], [], 2)
            assert ready, f"only {accepted} of 16 connections accepted"
            for sock in ready:
                conn, _ = sock.accept()
                conn.close()
                accepted += 1
        for c in clients:
            c.close()
    finally:
        for s in [*held, *workers]:
            s.close()


def test_a_plain_bind_still_refuses_a_second_listener() -> None:
    first = bind("127.0.0.1", 0)
    try:
        with pytest.raises(OSError):
            bind("127.0.0.1", first[0].getsockname()[1])
    finally:
        for s in first:
            s.close()
