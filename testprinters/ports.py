"""Free loopback ports and readiness waits for the test printers."""

from __future__ import annotations

import socket
import subprocess
import time


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago (bind port 0, read it, close).

    For servers we start as subprocesses that need a port number on their
    command line; callers retry if the child then fails to bind (a tiny race).
    """
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
