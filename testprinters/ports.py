"""Free loopback ports and readiness waits for the test printers."""

from __future__ import annotations

import random
import socket
import subprocess
import time
from pathlib import Path


def _ephemeral_low() -> int:
    """The lowest port the kernel hands to outgoing connections."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768   # Linux's default


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago, below the kernel's ephemeral range.

    For servers we start as subprocesses that need a port number on their command line.
    A port from ``bind(0)`` is an ephemeral one: until the server binds it, any outgoing
    connection on the machine (another test worker's client, a database connection) may
    take it as its local port, and the server then fails with "address already in use"
    (a CI run lost a virtual printer so). Below the range only another caller of this
    function can pick it: one random port in some twenty thousand.
    """
    low = _ephemeral_low()
    # Not the random module's generator: pytest-randomly seeds it alike in every test
    # worker, which would then draw the same ports. A range that starts too low to leave
    # room below it: bind(0) as before.
    rng = random.SystemRandom()
    candidates = [rng.randrange(10000, low) for _ in range(200)] if low > 11000 else []
    for port in [*candidates, 0]:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind((host, port))
            except OSError:
                continue
            return int(s.getsockname()[1])
    raise OSError("no free TCP port")


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
