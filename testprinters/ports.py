"""Free loopback ports and readiness waits for the test printers."""

from __future__ import annotations

import random
import socket
import subprocess
import time
from pathlib import Path


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999   # Linux's default


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago, below the kernel's ephemeral range.

    For servers we start as subprocesses that need a port number on their command line.
    A port from ``bind(0)`` is an ephemeral one: until the server binds it, any outgoing
    connection on the machine (another test worker's client, a database connection) may
    take it as its local port, and the server then fails with "address already in use"
    (a CI run lost a virtual printer so). Below the range only another caller of this
    function can pick it: one random port in some twenty thousand.
    """
    low, _ = _ephemeral_range()
    rng = random.SystemRandom()
    for _ in range(200 if low > 11000 else 0):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind((host, rng.randrange(10000, low)))
            except OSError:
                continue
            return int(s.getsockname()[1])
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def wait_for_port(host: str, port: int, proc: subprocess.Popen[bytes] | None = None,
                  timeout: float = 20.0) -> bool:
    """Poll until ``host:port`` accepts TCP connections; False if ``proc`` died or timeout."""
    deadline = time.monotonic() + timeout
    delay = 0.01
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with socket.create_connection((host, port), timeout=1.0):
                return True
        except OSError:
            time.sleep(delay)
            delay = min(delay * 2, 0.2)
    return False
