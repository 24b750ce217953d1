"""The real ``ippeveprinter`` (Debian cups-ipp-utils) as a subprocess on loopback.

``EvePrinter(formats=..., duplex=True, command="/bin/true").start()`` picks a free
loopback port, starts a private D-Bus system bus (ippeveprinter refuses to start
without one) unless one is passed in, launches ``ippeveprinter -n localhost``,
and waits until the port accepts connections. ``stop()`` terminates the
children and removes the temporary spool directory (unless it was given).

``command`` is what ippeveprinter runs for each job (``-c``). ``None`` means its
built-in behaviour, which *sleeps 5-15 s per job* to simulate printing: tests
want ``/bin/true`` (the default here, complete at once) or ``COUNTING_COMMAND``
(reports ``job-impressions-completed`` through ippeveprinter's ``ATTR:`` lines).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

from testprinters.dbus import PrivateDBus, die_with_parent, terminate
from testprinters.ports import free_port, wait_for_port

DEFAULT_FORMATS = ("application/pdf", "image/jpeg", "image/pwg-raster")
# Sentinel for ``command``: a -c script that reports impressions (see eve_command.py).
COUNTING_COMMAND = "counting"


class EvePrinter:
    """One ippeveprinter process. ``uri`` is ``ipp://127.0.0.1:PORT/ipp/print``."""

    def __init__(
        self,
        name: str = "TestEve",
        *,
        formats: Sequence[str] = DEFAULT_FORMATS,
        duplex: bool = True,
        command: str | None = "/bin/true",
        keep_files: bool = False,
        spool_dir: Path | None = None,
        extra_args: Sequence[str] = (),
        dbus: PrivateDBus | None = None,
        port: int | None = None,
    ) -> None:
        self.name = name
        self.formats = tuple(formats)
        self.duplex = duplex
        self.command = command
        self.keep_files = keep_files
        self.extra_args = tuple(extra_args)
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if spool_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="ippproxy-eve-")
            spool_dir = Path(self._tmp.name) / "spool"
        self.spool_dir = spool_dir
        self.log_path = self.spool_dir.parent / f"{self.spool_dir.name}.log"
        self._dbus = dbus
        self._own_dbus = dbus is None
        self._requested_port = port
        self.port = 0
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def uri(self) -> str:
        return f"ipp://127.0.0.1:{self.port}/ipp/print"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def argv(self, port: int) -> list[str]:
        args = ["ippeveprinter", "-n", "localhost", "-p", str(port), "-r", "off",
                "-d", str(self.spool_dir), "-f", ",".join(self.formats)]
        if self.duplex:
            args.append("-2")
        if self.command == COUNTING_COMMAND:
            args += ["-c", str(self._counting_script())]
        elif self.command:
            args += ["-c", self.command]
        if self.keep_files:
            args.append("-k")
        return [*args, *self.extra_args, self.name]

    def _counting_script(self) -> Path:
        # ippeveprinter execs -c as one path (no arguments), so write a wrapper script.
        script = self.spool_dir.parent / "eve-counting.sh"
        target = Path(__file__).with_name("eve_command.py")
        script.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{target}" "$@"\n')
        script.chmod(0o755)
        return script

    def start(self, timeout: float = 20.0) -> Self:
        if self._dbus is None:
            self._dbus = PrivateDBus().start()
        self.spool_dir.mkdir(parents=True, exist_ok=True)
        fixed = self._requested_port or self.port  # a restart keeps its port
        for _ in range(1 if fixed else 3):
            port = fixed or free_port()
            log = self.log_path.open("ab")
            self._proc = subprocess.Popen(
                die_with_parent(self.argv(port)), env=self._dbus.env(),
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            )
            log.close()
            # -n localhost binds 127.0.0.1 (and ::1); the port accepting is readiness.
            if wait_for_port("127.0.0.1", port, self._proc, timeout):
                self.port = port
                return self
            terminate(self._proc)
            self._proc = None
        tail = self.log_path.read_text(errors="replace")[-2000:]
        self.stop()
        raise RuntimeError(f"ippeveprinter did not start; log:\n{tail}")

    def is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def kill(self) -> None:
        """Stop the printer process only (simulate a printer switched off); restart with start()."""
        if self._proc is not None:
            terminate(self._proc)
            self._proc = None

    def spooled_files(self) -> list[Path]:
        """Documents kept in the spool directory (with ``keep_files=True``)."""
        return sorted(p for p in self.spool_dir.iterdir() if p.is_file())

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        self.kill()
        if self._own_dbus and self._dbus is not None:
            self._dbus.stop()
            self._dbus = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
