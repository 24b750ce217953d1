"""Every queue announced through a real avahi-daemon, found by ``avahi-browse`` and
``ippfind``: ``ippproxy serve`` runs in a network namespace with avahi-daemon
(tests/support/avahi.py), since avahi announces nothing on loopback.

Each queue with ``dnssd = true`` (the default) appears as ``_ipp._tcp`` and ``_ipps._tcp``
with the ``_print`` and ``_universal`` sub-types, on our port, with the TXT record made from
the same printer attributes Get-Printer-Attributes answers; a queue with ``dnssd = false``
does not; a queue turned off through the catalog disappears; stopping the server withdraws
everything, and ``[dnssd] enabled = false`` announces nothing.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from support.avahi import AvahiNetns, Found
from support.server import IppProxy, ippproxy_command, tracebacks

QUEUES = [{"name": "office", "info": "Office laser", "location": "Room 1"},
          {"name": "lab"},
          {"name": "hidden", "dnssd": False}]


@pytest.fixture
def net(tmp_path: Path) -> Iterator[AvahiNetns]:
    with AvahiNetns(tmp_path / "net") as n:
        yield n


def serve_in(net: AvahiNetns, directory: Path, *, enabled: bool = True) -> IppProxy:
    proxy = IppProxy(directory, queues=QUEUES, server={"listen": "0.0.0.0"},
                     forwarding={"poll_interval": 0.2},
                     command=net.command(*ippproxy_command()))
    proxy.host = net.address              # the namespace's end of the veth pair
    with proxy.config_path.open("a") as f:
        f.write(f"\n[dnssd]\nenabled = {'true' if enabled else 'false'}\n")
    return proxy


def wait_for(check: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.3)


def names(found: list[Found]) -> set[str]:
    return {f.name for f in found}


def printer_attributes(proxy: IppProxy, queue: str, home: Path) -> dict[str, list[str]]:
    """Our Get-Printer-Attributes answer, as ipptool prints it (name -> values)."""
    out = subprocess.run(["ipptool", "-tv", "-T", "20", proxy.uri(queue),
                          "/usr/share/cups/ipptool/get-printer-attributes.test"],
                         capture_output=True, text=True, timeout=60, check=False,
                         env={"HOME": str(home), "PATH": "/usr/bin:/bin"}).stdout
    attrs = {}
    for m in re.finditer(r"^\s+([a-z0-9-]+) \([^)]*\) = (.*)$", out, re.MULTILINE):
        attrs[m.group(1)] = m.group(2).split(",")
    return attrs


def test_every_queue_is_announced_with_its_txt_record(net: AvahiNetns, tmp_path: Path) -> None:
    proxy = serve_in(net, tmp_path / "proxy")
    with proxy:
        wait_for(lambda: {"Office laser", "lab"} <= names(net.browse("_ipp._tcp")),
                 f"not announced: {net.browse('_ipp._tcp')}\n{proxy.log()[-3000:]}")
        host = f"{net.hostname}.local"
        every = net.browse_many("_ipp._tcp", "_ipps._tcp", "_print._sub._ipp._tcp",
                                "_universal._sub._ipp._tcp", "_print._sub._ipps._tcp",
                                "_universal._sub._ipps._tcp")
        for kind, found in every.items():
            assert names(found) == {"Office laser", "lab"}, (kind, found)   # not "hidden"
            assert {(f.port, f.host) for f in found} == {(proxy.port, host)}
            # the host's address on the link (IPv4, or its IPv6 link-local one)
            assert {f.address for f in found} <= {net.address} | {
                f.address for f in found if f.address.startswith("fe80:")}
        for service, queue in (("Office laser", "office"), ("lab", "lab")):
            [found] = [f for f in every["_ipps._tcp"] if f.name == service]
            [plain] = [f for f in every["_ipp._tcp"] if f.name == service]
            assert plain.txt == found.txt
            gpa = printer_attributes(proxy, queue, tmp_path)
            txt = found.txt
            assert txt["rp"] == f"printers/{queue}"
            assert txt["ty"] == gpa["printer-make-and-model"][0]
            assert txt["product"] == f"({txt['ty']})"
            assert txt["pdl"].split(",") == [
                f for f in gpa["document-format-supported"] if f != "application/octet-stream"]
            assert txt["UUID"] == gpa["printer-uuid"][0].removeprefix("urn:uuid:")
            assert txt["Color"] == ("T" if gpa["color-supported"] == ["true"] else "F")
            assert txt["Duplex"] == ("T" if any(s.startswith("two-sided")
                                                for s in gpa["sides-supported"]) else "F")
            assert txt["URF"] == ",".join(gpa.get("urf-supported", ["none"]))
            assert txt["adminurl"] == f"https://{host}:{proxy.port}/printers/{queue}"
            assert txt["note"] == ("Room 1" if queue == "office" else "")
            assert (txt["txtvers"], txt["qtotal"], txt["priority"], txt["TLS"],
                    txt["air"]) == ("1", "1", "50", "1.2", "none")
            assert txt["kind"]
        # ippfind (libcups' DNS-SD client) finds them too, and builds our URIs.
        out = net.run("ippfind", "-T", "1", "_ipp._tcp", "--print", "_ipps._tcp", "--print")
        assert set(out.split()) == {f"{scheme}://{host}:{proxy.port}/printers/{queue}"
                                    for scheme in ("ipp", "ipps") for queue in ("office", "lab")}

        # A queue added through the catalog appears; turned off, it disappears.
        cmd = [*ippproxy_command(), "cmd", "--config", str(proxy.config_path), "queue"]
        subprocess.run([*cmd, "add", "extra", "destination=builtin"], check=True,
                       capture_output=True, timeout=60)
        wait_for(lambda: "extra" in names(net.browse("_ipp._tcp")), "extra not announced")
        subprocess.run([*cmd, "set", "extra", "dnssd=false"], check=True,
                       capture_output=True, timeout=60)
        wait_for(lambda: "extra" not in names(net.browse("_ipps._tcp")),
                 "extra still announced")
        assert names(net.browse("_ipp._tcp")) == {"Office laser", "lab"}
        assert not tracebacks(proxy.log())
    # Stopped: every announcement withdrawn (goodbye packets, avahi's cache flushed).
    wait_for(lambda: not net.browse("_ipp._tcp"), "still announced after stop")


def test_a_restarted_avahi_gets_the_queues_again(net: AvahiNetns, tmp_path: Path) -> None:
    with serve_in(net, tmp_path / "proxy") as proxy:
        wait_for(lambda: {"Office laser", "lab"} <= names(net.browse("_ipp._tcp")),
                 "not announced")
        net.stop_avahi()
        time.sleep(1)
        net.start_avahi()
        # avahi's NameOwnerChanged wakes the advertiser: back well before its 30 s refresh.
        wait_for(lambda: {"Office laser", "lab"} == names(net.browse("_ipps._tcp")),
                 f"not announced again:\n{proxy.log()[-2000:]}", timeout=15)
        assert not tracebacks(proxy.log())


def test_nothing_is_announced_when_dnssd_is_off(net: AvahiNetns, tmp_path: Path) -> None:
    with serve_in(net, tmp_path / "proxy", enabled=False) as proxy:
        # The server is up; an enabled one announces its queues as it starts (the test
        # above finds them at its first browse), so two seconds more are plenty.
        time.sleep(2)
        assert net.browse("_ipp._tcp") == []
        assert "dnssd" not in proxy.log()


def test_without_avahi_the_server_runs_and_says_so_once(tmp_path: Path) -> None:
    proxy = IppProxy(tmp_path / "proxy", command=[
        "env", f"DBUS_SYSTEM_BUS_ADDRESS=unix:path={tmp_path / 'no-bus'}",
        *ippproxy_command()])
    with proxy.config_path.open("a") as f:
        f.write("\n[dnssd]\nenabled = true\n")
    with proxy:
        wait_for(lambda: "dnssd: queues not announced" in proxy.log(), proxy.log()[-2000:])
        assert printer_attributes(proxy, "default", tmp_path)["printer-name"] == ["default"]
        assert len([line for line in proxy.log().splitlines() if "dnssd" in line]) == 1
        assert not tracebacks(proxy.log())
