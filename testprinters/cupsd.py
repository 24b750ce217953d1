"""A private ``cupsd`` on loopback, for tests with real CUPS clients (``lp``, ``lpadmin``).

Everything lives in a temporary directory: its own ServerRoot, spool, cache,
state and logs, ``Listen 127.0.0.1:PORT``, no browsing, no sharing, no web
interface, and an open policy (the cupsd is reachable only from loopback and
lives only for the test). ``add_queue("q", uri)`` runs ``lpadmin -m everywhere``
(cupsd then queries the printer at ``uri`` for its capabilities, so the printer
must be up), ``lp("q", path)`` submits a file and returns the CUPS job id.
CUPS runs its filters and backends as user ``lp``, so the directories are made
reachable for that user.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Self

from testprinters.dbus import PrivateDBus, die_with_parent, terminate
from testprinters.ports import free_port, wait_for_port

_FILES_CONF = """ServerRoot {root}
RequestRoot {root}/spool
TempDir {root}/spool/tmp
CacheDir {root}/cache
StateDir {root}/state
AccessLog {root}/log/access_log
ErrorLog {root}/log/error_log
PageLog {root}/log/page_log
ServerKeychain {root}/certs
User lp
Group lp
SystemGroup root
FileDevice No
"""

_CUPSD_CONF = """LogLevel {loglevel}
MaxLogSize 0
Listen 127.0.0.1:{port}
ServerName localhost
ServerAlias *
Browsing No
BrowseLocalProtocols none
DefaultShared No
WebInterface No
MaxJobs 0
DefaultAuthType None
<Location />
  Order allow,deny
  Allow all
</Location>
<Location /admin>
  Order allow,deny
  Allow all
</Location>
<Policy default>
  JobPrivateAccess default
  JobPrivateValues default
  SubscriptionPrivateAccess default
  SubscriptionPrivateValues default
  <Limit All>
    Order deny,allow
  </Limit>
</Policy>
"""

_REQUEST_ID = re.compile(r"request id is (\S+)-(\d+)")


class PrivateCupsd:
    """One cupsd child process; ``server`` is the ``-h`` argument for CUPS tools."""

    def __init__(self, *, loglevel: str = "warn", dbus: PrivateDBus | None = None) -> None:
        self.loglevel = loglevel
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self.root = Path()
        self.port = 0
        self._dbus = dbus
        self._own_dbus = dbus is None
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def server(self) -> str:
        return f"127.0.0.1:{self.port}"

    def queue_uri(self, queue: str) -> str:
        return f"ipp://127.0.0.1:{self.port}/printers/{queue}"

    def _prepare(self) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="ippproxy-cupsd-")
        self.root = Path(self._tmp.name)
        for sub in ("spool/tmp", "cache", "state", "log", "ppd", "certs"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o755)
        (self.root / "files.conf").write_text(_FILES_CONF.format(root=self.root))
        (self.root / "printers.conf").write_text("")
        (self.root / "classes.conf").write_text("")
        if os.geteuid() == 0:  # filters and backends run as lp: let them reach the spool
            for sub in ("spool", "spool/tmp", "cache", "state"):
                shutil.chown(self.root / sub, "root", "lp")
            (self.root / "spool").chmod(0o710)
            (self.root / "spool/tmp").chmod(0o1770)
            (self.root / "cache").chmod(0o775)
            (self.root / "state").chmod(0o775)

    def start(self, timeout: float = 20.0) -> Self:
        if self._dbus is None:
            self._dbus = PrivateDBus().start()
        self._prepare()
        for _ in range(3):
            self.port = free_port()
            conf = self.root / "cupsd.conf"
            conf.write_text(_CUPSD_CONF.format(loglevel=self.loglevel, port=self.port))
            for c in (conf, self.root / "files.conf", self.root / "printers.conf"):
                c.chmod(0o644)
            out = (self.root / "log" / "cupsd.out").open("ab")
            self._proc = subprocess.Popen(
                die_with_parent(["cupsd", "-f", "-c", str(conf), "-s",
                                 str(self.root / "files.conf")]),
                env=self._dbus.env(), stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT,
            )
            out.close()
            if wait_for_port("127.0.0.1", self.port, self._proc, timeout):
                return self
            terminate(self._proc)
            self._proc = None
        log = self.error_log()
        self.stop()
        raise RuntimeError(f"cupsd did not start; error_log:\n{log[-2000:]}")

    def run(self, *argv: str, check: bool = True, timeout: float = 60.0
            ) -> subprocess.CompletedProcess[str]:
        """Run a CUPS command-line tool (``lpadmin``, ``lp``, ``lpstat`` ...) against us."""
        assert self._dbus is not None
        env = self._dbus.env()
        env["CUPS_SERVER"] = self.server
        return subprocess.run([argv[0], "-h", self.server, *argv[1:]], env=env, check=check,
                              capture_output=True, text=True, timeout=timeout)

    def add_queue(self, name: str, device_uri: str, model: str = "everywhere") -> str:
        """``lpadmin -p NAME -E -v URI -m MODEL``, enabled and accepting; returns its URI.

        cupsd makes an ``everywhere`` driver in the background after lpadmin returns, and a
        job queued before it is done goes out raw: this waits until it is done (made or
        failed: ``driver_made`` tells which)."""
        self.run("lpadmin", "-p", name, "-E", "-v", device_uri, "-m", model)
        if model == "everywhere":
            deadline = time.monotonic() + 30
            while self.driver_made(name) is None and time.monotonic() < deadline:
                time.sleep(0.05)
        self.run("cupsenable", name)
        self.run("cupsaccept", name)
        return self.queue_uri(name)

    def driver_made(self, queue: str) -> bool | None:
        """Whether cupsd made the ``everywhere`` driver (a PPD) of ``queue``: True, False
        when it logged that it could not, None while it is still at it."""
        if f"{queue}: PPD creation failed" in self.error_log():
            return False
        ppd = self.root / "ppd" / f"{queue}.ppd"
        return True if ppd.exists() and b"*cupsFilter2" in ppd.read_bytes() else None

    def lp(self, queue: str, path: Path | str, options: Mapping[str, str] | None = None,
           copies: int = 1) -> int:
        """Submit ``path`` with ``lp -d QUEUE``; returns the CUPS job id."""
        args = ["lp", "-d", queue, "-n", str(copies)]
        for k, v in (options or {}).items():
            args += ["-o", f"{k}={v}"]
        out = self.run(*args, str(path)).stdout
        m = _REQUEST_ID.search(out)
        if m is None:
            raise RuntimeError(f"lp printed no job id: {out!r}")
        return int(m.group(2))

    def job_completed(self, queue: str, job_id: int) -> bool:
        out = self.run("lpstat", "-W", "completed", "-o", queue).stdout
        return any(line.split()[0] == f"{queue}-{job_id}" for line in out.splitlines() if line)

    def wait_job_completed(self, queue: str, job_id: int, timeout: float = 60.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.job_completed(queue, job_id):
                return True
            time.sleep(0.2)
        return False

    def error_log(self) -> str:
        p = self.root / "log" / "error_log"
        return p.read_text(errors="replace") if p.exists() else ""

    def stop(self) -> None:
        if self._proc is not None:
            terminate(self._proc)
            self._proc = None
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
