"""A private D-Bus "system" bus for ippeveprinter and cupsd.

CUPS 2.4's ``ippeveprinter`` refuses to start without a reachable system bus
("Unable to initialize DNS-SD."), and cupsd wants one too. We start our own
``dbus-daemon`` on a Unix socket in a temporary directory and hand its address
to children through ``DBUS_SYSTEM_BUS_ADDRESS``. No avahi-daemon runs on that
bus, so nothing is advertised and no multicast is sent.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Self

_BUS_CONF = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
    <allow user="*"/>
  </policy>
</busconfig>
"""


class PrivateDBus:
    """A ``dbus-daemon`` child process; ``address`` is valid after ``start()``."""

    def __init__(self, directory: Path | None = None) -> None:
        self._own_dir: tempfile.TemporaryDirectory[str] | None = None
        if directory is None:
            self._own_dir = tempfile.TemporaryDirectory(prefix="ippproxy-dbus-")
            directory = Path(self._own_dir.name)
        self.directory = directory
        self.address = ""
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Self:
        self.directory.mkdir(parents=True, exist_ok=True)
        socket = self.directory / "bus.sock"
        conf = self.directory / "bus.conf"
        conf.write_text(_BUS_CONF.format(socket=socket))
        self._proc = subprocess.Popen(
            die_with_parent(["dbus-daemon", f"--config-file={conf}", "--nofork",
                             "--print-address=1"]),
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
        )
        assert self._proc.stdout is not None
        # The daemon prints its address once the socket is listening: that is readiness.
        line = self._proc.stdout.readline().decode().strip()
        if not line:
            self.stop()
            raise RuntimeError("dbus-daemon did not start (is the dbus package installed?)")
        self.address = f"unix:path={socket}"
        return self

    def env(self) -> dict[str, str]:
        """The environment for a child that should use this bus as its system bus."""
        env = dict(os.environ)
        env["DBUS_SYSTEM_BUS_ADDRESS"] = self.address
        return env

    def stop(self) -> None:
        if self._proc is not None:
            terminate(self._proc)
            if self._proc.stdout is not None:
                self._proc.stdout.close()
            self._proc = None
        if self._own_dir is not None:
            self._own_dir.cleanup()
            self._own_dir = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def die_with_parent(argv: list[str]) -> list[str]:
    """``argv`` wrapped so the child gets SIGTERM when its parent dies (PR_SET_PDEATHSIG via
    util-linux ``setpriv``, no ``preexec_fn``): a killed test run leaves no printer, cupsd
    or dbus-daemon behind. The signal follows the *thread* that started the child: start
    children from a thread that lives as long as they do (the main thread in tests).
    """
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "TERM", "--", *argv] if setpriv else argv


def terminate(proc: subprocess.Popen[bytes], grace: float = 5.0) -> None:
    """SIGTERM our own child, then SIGKILL it if it does not exit within ``grace``."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
