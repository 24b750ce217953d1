"""Run the real ``ippproxy serve --config FILE`` as a subprocess, as a user would.

``IppProxy(tmp_dir, queues=[...], server={...})`` writes a TOML config (free ports for the
listener and the built-in virtual printer, database and spool under ``tmp_dir``), starts the
``ippproxy`` command and waits until a Get-Printer-Attributes request (hand-built bytes, so
this helper does not depend on the codec) is answered with HTTP 200 and an IPP status.
``kill9()`` simulates a crash, ``start()`` again restarts on the same ports and var dir,
``stop()`` is a graceful SIGTERM. ``log()`` returns the server's stdout and stderr.

Used by ``tests/e2e`` and by the benchmarks (``benchmarks/`` put the repo root on sys.path).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from support.cmd import run_cmd

from testprinters.ports import free_port

ScalarValue = str | int | float | bool
TomlValue = ScalarValue | Sequence[str]


def _toml_value(value: TomlValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return "[" + ", ".join(_toml_value(v) for v in value) + "]"


def _toml_table(header: str, values: Mapping[str, TomlValue]) -> str:
    lines = [header] + [f"{k} = {_toml_value(v)}" for k, v in values.items()]
    return "\n".join(lines) + "\n"


def ippproxy_command() -> list[str]:
    """The ``ippproxy`` console script of the running interpreter's environment."""
    script = Path(sys.executable).parent / "ippproxy"
    if script.exists():
        return [str(script)]
    found = shutil.which("ippproxy")
    if found:
        return [found]
    return [sys.executable, "-m", "ippproxy.cli"]


def _gpa_request(uri: str) -> bytes:
    """A minimal IPP/1.1 Get-Printer-Attributes request (RFC 8010 §3.1), by hand."""

    def attr(tag: int, name: str, value: str) -> bytes:
        n, v = name.encode(), value.encode()
        return struct.pack(">BH", tag, len(n)) + n + struct.pack(">H", len(v)) + v

    return (struct.pack(">BBHI", 1, 1, 0x000B, 1) + b"\x01"
            + attr(0x47, "attributes-charset", "utf-8")
            + attr(0x48, "attributes-natural-language", "en")
            + attr(0x45, "printer-uri", uri)
            + attr(0x44, "requested-attributes", "printer-state") + b"\x03")


def _probe(host: str, port: int, path: str, uri: str, timeout: float = 2.0) -> int | None:
    """HTTP status of a Get-Printer-Attributes POST, or None when nothing answers."""
    body = _gpa_request(uri)
    head = (f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/ipp\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.sendall(head + body)
            data = b""
            while b"\r\n" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    return None
                data += chunk
    except OSError:
        return None
    parts = data.split(b" ", 2)
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None


class IppProxy:
    """One ``ippproxy serve`` subprocess with its own config, ports and var directory."""

    def __init__(self, directory: Path, *, queues: Sequence[Mapping[str, TomlValue]] = (),
                 server: Mapping[str, TomlValue] | None = None,
                 forwarding: Mapping[str, TomlValue] | None = None,
                 virtual_printer: Mapping[str, TomlValue] | None = None,
                 log_level: str = "info", port: int | None = None,
                 fd_limit: int | None = None,
                 command: Sequence[str] | None = None) -> None:
        self.directory = Path(directory)
        # RLIMIT_NOFILE, soft and hard, for the server process (None: inherited)
        self.fd_limit = fd_limit
        self.directory.mkdir(parents=True, exist_ok=True)
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.queues = [dict(q) for q in queues] or [{"name": "default"}]
        srv: dict[str, TomlValue] = {"listen": self.host, "port": self.port}
        srv.update(server or {})
        vp: dict[str, TomlValue] = {"listen": self.host, "port": free_port()}
        vp.update(virtual_printer or {})
        self.virtual_printer_port = int(vp["port"])  # type: ignore[arg-type]
        self.config_path = self.directory / "ippproxy.toml"
        text = _toml_table("[server]", srv)
        text += _toml_table("[storage]", {
            "database": f"sqlite:///{self.directory / 'ippproxy.db'}",
            "spool": str(self.directory / "spool")})
        if forwarding:
            text += _toml_table("[forwarding]", forwarding)
        text += _toml_table("[virtual_printer]", vp)
        for q in self.queues:
            text += _toml_table("[[queue]]", q)
        self.config_path.write_text(text)
        self.log_path = self.directory / "ippproxy.log"
        self.log_level = log_level
        self._proc: subprocess.Popen[bytes] | None = None
        # The program to run with ``serve --config FILE``: the ippproxy command by default.
        self.command = list(command) if command else None

    # -- addresses ---------------------------------------------------------------------
    @property
    def authority(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def https(self) -> str:
        """Base URL of the web side (plain HTTP is redirected there: server/redirect.py)."""
        return f"https://{self.authority}"

    @property
    def cert(self) -> Path:
        """The self-signed certificate the server made at its first start (server/tls.py)."""
        return self.directory / "tls" / "server.crt"

    def uri(self, queue: str | None = None) -> str:
        return f"ipp://{self.authority}/printers/{queue or self.queues[0]['name']}"

    def path(self, queue: str | None = None) -> str:
        return f"/printers/{queue or self.queues[0]['name']}"

    @property
    def pid(self) -> int:
        assert self._proc is not None, "server not running"
        return self._proc.pid

    # -- life cycle --------------------------------------------------------------------
    def start(self, timeout: float = 30.0) -> Self:
        assert self._proc is None or self._proc.poll() is not None, "already running"
        log = self.log_path.open("ab")
        log.write(f"\n===== start {time.strftime('%H:%M:%S')} =====\n".encode())
        log.flush()
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        # prlimit (util-linux) sets the descriptor limit of the command it runs
        limit = ["prlimit", f"--nofile={self.fd_limit}:{self.fd_limit}", "--"] \
            if self.fd_limit else []
        self._proc = subprocess.Popen(
            [*limit, *(self.command or ippproxy_command()), "serve", "--config", str(self.config_path),
             "--log-level", self.log_level],
            cwd=self.directory, env=env, stdin=subprocess.DEVNULL, stdout=log,
            stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + timeout
        delay = 0.02
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"ippproxy exited with {self._proc.returncode}; log:\n"
                                   f"{self.log()[-4000:]}")
            if _probe(self.host, self.port, self.path(), self.uri()) == 200:
                return self
            time.sleep(delay)
            delay = min(delay * 1.5, 0.2)
        self.kill9()
        raise RuntimeError(f"ippproxy not ready after {timeout} s; log:\n{self.log()[-4000:]}")

    def is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def _mark(self, what: str) -> None:
        """A line in the server's log saying what this helper did to it and when: a
        "shutting down" after the teardown's SIGTERM then reads as what it is."""
        with self.log_path.open("ab") as log:
            log.write(f"===== {what} {time.strftime('%H:%M:%S')} =====\n".encode())

    def kill9(self) -> None:
        """SIGKILL our own child and its workers (``server.workers``), a crash: no clean-up
        runs. All are stopped first, so that none sees the others die (a worker would be
        told by PR_SET_PDEATHSIG and stop gracefully, the parent would fork a new one)."""
        if self._proc is not None:
            if self._proc.poll() is None:
                self._mark(f"kill -9 of pid {self._proc.pid} by tests/support/server.py")
                tree = [self._proc.pid, *self.workers()]
                for pid in tree:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGSTOP)
                for pid in tree:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
            self._proc.wait()
            self._proc = None

    def workers(self) -> list[int]:
        """The pids of the server's worker processes (``server.workers`` > 1; the analysis
        workers are their children or the server's, and die with them)."""
        if self._proc is None:
            return []
        kids: list[int] = []
        for tasks in Path(f"/proc/{self._proc.pid}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                kids += [int(k) for k in tasks.read_text().split()]
        return [k for k in kids if _is_server(k)]

    def stop(self, grace: float = 10.0) -> int | None:
        """SIGTERM, then SIGKILL after ``grace``; the exit status (None if not running)."""
        if self._proc is None:
            return None
        proc, self._proc = self._proc, None
        if proc.poll() is None:
            self._mark(f"SIGTERM to pid {proc.pid} by tests/support/server.py (stop)")
            proc.terminate()
            try:
                proc.wait(grace)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        return proc.returncode

    def restart(self, timeout: float = 30.0) -> Self:
        self.stop()
        return self.start(timeout)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def option(self, *args: str, timeout: float = 30.0) -> None:
        """``ippproxy cmd option ARGS`` (set, clear ...), then wait until the running server
        has taken the new catalog (its log says ``catalog version N``): its watcher polls
        every ``storage.catalog_poll_interval``, later on a loaded machine."""
        before = self.log().count("catalog version ")
        done = run_cmd(["--config", str(self.config_path), "option", *args])
        assert done.returncode == 0, done.stdout + done.stderr
        deadline = time.monotonic() + timeout
        while self.log().count("catalog version ") <= before:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not take option {args} in {timeout} s; "
                                   f"log:\n{self.log()[-2000:]}")
            time.sleep(0.05)

    def peak_rss_kib(self) -> int:
        """VmHWM of the server process (peak resident set size), in KiB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
        raise RuntimeError("no VmHWM in /proc status")

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def _is_server(pid: int) -> bool:
    """Whether ``pid`` runs ``ippproxy serve`` (a worker), not an analysis worker."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"serve" in argv


def tracebacks(log: str) -> list[str]:
    """Lines of the server log that start a Python traceback (for 'never a crash' checks)."""
    return [line for line in log.splitlines() if line.startswith("Traceback")]


__all__: list[Any] = ["IppProxy", "free_port", "ippproxy_command", "tracebacks"]
