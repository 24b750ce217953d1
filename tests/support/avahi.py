"""avahi-daemon in a network namespace of its own, for DNS-SD tests.

avahi does not announce on loopback, and the host's network must not hear our test printers.
So: a namespace with a veth pair (one end in it, one on the host, a random /30 of
10.231.0.0/16), a private D-Bus system bus (testprinters/dbus.py) and avahi-daemon with a
private configuration, bound to the namespace's end only, in a private mount namespace whose
``/run/avahi-daemon`` is a tmpfs (its pid file there is compiled in: two daemons must not
share it). Programs that publish or browse run inside with :meth:`AvahiNetns.command` (they
reach avahi over the private bus); the host reaches a server in the namespace at
:attr:`AvahiNetns.address`. Needs root, iproute2 and avahi-daemon/avahi-utils (Makefile's
DEB_PACKAGES).
"""

from __future__ import annotations

import secrets
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

from testprinters.dbus import PrivateDBus, die_with_parent, terminate

_CONF = """[server]
host-name={host}
use-ipv4=yes
use-ipv6=no
allow-interfaces={iface}
enable-dbus=yes
ratelimit-interval-usec=1000000
ratelimit-burst=1000
[wide-area]
enable-wide-area=no
[publish]
publish-hinfo=no
publish-workstation=no
"""


@dataclass(frozen=True)
class Found:
    """One resolved service as ``avahi-browse -rpt`` prints it."""

    interface: str
    name: str
    type: str
    host: str
    address: str
    port: int
    txt: dict[str, str]


def _unescape(s: str) -> str:
    """avahi-browse -p escapes '.', '\\' and non-printable bytes as \\DDD (decimal)."""
    out, i, raw = bytearray(), 0, s.encode()
    while i < len(raw):
        if raw[i:i + 1] == b"\\" and raw[i + 1:i + 4].isdigit():
            out.append(int(raw[i + 1:i + 4]))
            i += 4
        elif raw[i:i + 1] == b"\\" and i + 1 < len(raw):
            out.append(raw[i + 1])
            i += 2
        else:
            out.append(raw[i])
            i += 1
    return out.decode(errors="replace")


def _txt(field: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in field.split('" "'):
        item = item.strip('"')
        if item:
            key, _, value = item.partition("=")
            out[key] = value
    return out


class AvahiNetns:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        tag = secrets.token_hex(3)
        self.netns = f"ippx-{tag}"
        self.host_if, self.ns_if = f"ixh{tag}", f"ixn{tag}"   # at most 15 characters
        net = secrets.randbelow(1 << 14) * 4                  # a /30 of 10.231.0.0/16
        self.host_address = f"10.231.{net >> 8}.{(net & 255) + 1}"
        self.address = f"10.231.{net >> 8}.{(net & 255) + 2}"
        self.hostname = f"ippx{tag}"
        self.dbus = PrivateDBus(directory / "dbus")
        self._avahi: subprocess.Popen[bytes] | None = None
        self.log_path = directory / "avahi.log"

    def _ip(self, *argv: str) -> None:
        subprocess.run(["ip", *argv], check=True, capture_output=True, timeout=30)

    def start(self) -> Self:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._ip("netns", "add", self.netns)
        try:
            self._ip("link", "add", self.host_if, "type", "veth", "peer", "name", self.ns_if,
                     "netns", self.netns)
            self._ip("addr", "add", f"{self.host_address}/30", "dev", self.host_if)
            self._ip("link", "set", self.host_if, "up")
            self._ip("-n", self.netns, "addr", "add", f"{self.address}/30", "dev", self.ns_if)
            self._ip("-n", self.netns, "link", "set", self.ns_if, "up")
            self._ip("-n", self.netns, "link", "set", "lo", "up")
            self.dbus.start()
            self.start_avahi()
        except BaseException:
            self.stop()
            raise
        return self

    def start_avahi(self) -> None:
        """(Re)start avahi-daemon in the namespace; returns once it serves."""
        conf = self.directory / "avahi-daemon.conf"
        conf.write_text(_CONF.format(host=self.hostname, iface=self.ns_if))
        with self.log_path.open("wb") as log:
            self._avahi = subprocess.Popen(die_with_parent(
                ["ip", "netns", "exec", self.netns, "unshare", "-m", "sh", "-c",
                 ("mkdir -p /run/avahi-daemon && mount -t tmpfs none /run/avahi-daemon "
                 f"&& exec avahi-daemon -f {conf} --no-drop-root --no-chroot --no-rlimits")]),
                env=self.dbus.env(), stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while "Server startup complete" not in self.log():
            if self._avahi.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"avahi-daemon did not start:\n{self.log()}")
            time.sleep(0.05)

    def stop_avahi(self) -> None:
        if self._avahi is not None:
            terminate(self._avahi)
            self._avahi = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def env(self) -> dict[str, str]:
        return self.dbus.env()

    def command(self, *argv: str) -> list[str]:
        """``argv`` run in the namespace, with the private bus as its system bus."""
        return ["env", f"DBUS_SYSTEM_BUS_ADDRESS={self.dbus.address}",
                "ip", "netns", "exec", self.netns, *argv]

    def run(self, *argv: str, timeout: float = 60) -> str:
        return subprocess.run(self.command(*argv), capture_output=True, text=True,
                              timeout=timeout, check=True).stdout

    def browse(self, service_type: str) -> list[Found]:
        """Every resolved ``service_type`` service on the namespace's link (avahi's cache
        and a fresh query: ``-t`` ends once avahi has nothing more for now, about 1 s)."""
        return self.browse_many(service_type)[service_type]

    def browse_many(self, *service_types: str) -> dict[str, list[Found]]:
        """:meth:`browse` for several types at once (one avahi-browse each, in parallel)."""
        procs = {t: subprocess.Popen(self.command("avahi-browse", "-rpt", t),
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True) for t in service_types}
        out: dict[str, list[Found]] = {}
        for t, proc in procs.items():
            stdout, _ = proc.communicate(timeout=60)
            out[t] = []
            for line in stdout.splitlines():
                f = line.split(";")
                if f[0] == "=" and len(f) >= 10:
                    out[t].append(Found(f[1], _unescape(f[3]), f[4], f[6], f[7], int(f[8]),
                                        _txt(";".join(f[9:]))))
        return out

    def stop(self) -> None:
        self.stop_avahi()
        self.dbus.stop()
        subprocess.run(["ip", "netns", "del", self.netns], capture_output=True, timeout=30,
                       check=False)
        # The host end goes with its peer; make sure of it.
        subprocess.run(["ip", "link", "del", self.host_if], capture_output=True, timeout=30,
                       check=False)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, et: type[BaseException] | None, e: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
