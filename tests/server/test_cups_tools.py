"""The CUPS command-line tools pointed straight at ``ippproxy serve`` (``CUPS_SERVER``, as
``-h host:port`` or a ``client.conf`` sets it), as issue 16 found them failing: ``lpstat -t``,
``lpstat -o DEST``, ``lp -d DEST``, ``lpoptions -d``, ``cancel DEST-ID``, ``cancel -a DEST``.

They address cupsd's resources: ``ipp://localhost/`` for the server (the default queue, or
every queue for Get-Jobs and Cancel-Jobs), ``ipp://localhost/jobs/ID`` for a job whose queue
they do not name, and libcups posts jobs to the ``printer-uri-supported`` it was answered
(server/cupsnames.py). ``cancel -a`` is Cancel-Jobs, for admins only: root on the Unix socket
is one (SO_PEERCRED), a claimed ``requesting-user-name`` is not.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.server import IppProxy, ippproxy_command, tracebacks

from testprinters.cupsd import PrivateCupsd

_ID = re.compile(r"request id is (\S+)-(\d+)")


class Tools:
    """The CUPS tools with ``CUPS_SERVER`` set to the proxy's TCP port (or its socket)."""

    def __init__(self, proxy: IppProxy, home: Path, socket: Path) -> None:
        self.proxy, self.home, self.socket = proxy, home, socket
        self.document = home / "hello.txt"
        self.document.write_text("hello from the CUPS tools\n")

    def run(self, *argv: str, local: bool = False, check: bool = True
            ) -> subprocess.CompletedProcess[str]:
        server = str(self.socket) if local else self.proxy.authority
        # A session of its own: no controlling terminal, so a password prompt fails at
        # once instead of waiting for a keyboard.
        r = subprocess.run(list(argv), env=dict(os.environ, CUPS_SERVER=server,
                                                HOME=str(self.home)),
                           capture_output=True, text=True, timeout=60,
                           start_new_session=True, check=False)
        if check:
            assert r.returncode == 0, f"{argv}: {r.stdout}{r.stderr}"
        return r

    def lp(self, queue: str, *options: str) -> int:
        out = self.run("lp", "-d", queue, "-H", "indefinite", *options,
                       str(self.document)).stdout
        m = _ID.search(out)
        assert m is not None and m.group(1) == queue, out
        return int(m.group(2))

    def jobs(self, dest: str = "", which: str = "not-completed") -> set[str]:
        """The ids ``lpstat -W WHICH -o [DEST]`` lists (DEST-ID)."""
        out = self.run("lpstat", "-W", which, "-o", *([dest] if dest else [])).stdout
        return {line.split()[0] for line in out.splitlines() if line.strip()}


@pytest.fixture
def tools(tmp_path: Path) -> Iterator[Tools]:
    sockets = Path(tempfile.mkdtemp(prefix="ippproxy-sock-"))
    sockets.chmod(0o755)
    socket = sockets / "ippproxy.sock"
    proxy = IppProxy(tmp_path / "proxy", queues=[{"name": "default"}, {"name": "second"}],
                     server={"unix_socket": str(socket)})
    home = tmp_path / "home"
    home.mkdir()
    with proxy:
        yield Tools(proxy, home, socket)
        assert not tracebacks(proxy.log()), proxy.log()
    socket.unlink(missing_ok=True)
    sockets.rmdir()


def test_lpstat_t_and_lpoptions_d(tools: Tools) -> None:
    r = tools.run("lpstat", "-t")
    assert r.stderr == ""           # before: "operation 0x4005 is not supported", ...
    assert "system default destination: default" in r.stdout
    for queue in ("default", "second"):
        assert f"printer {queue} is idle" in r.stdout
        assert f"{queue} accepting requests" in r.stdout
    # The same with -h instead of CUPS_SERVER.
    env = {k: v for k, v in os.environ.items() if k != "CUPS_SERVER"}
    r2 = subprocess.run(["lpstat", "-h", tools.proxy.authority, "-t"], capture_output=True,
                        text=True, timeout=60, check=False, start_new_session=True,
                        env=dict(env, HOME=str(tools.home)))
    assert (r2.returncode, r2.stdout, r2.stderr) == (0, r.stdout, "")
    tools.run("lpoptions", "-d", "second")
    assert tools.run("lpstat", "-d").stdout.strip() == "system default destination: second"
    # ... and lp without -d prints there (the user's lpoptions default).
    out = tools.run("lp", "-H", "indefinite", str(tools.document)).stdout
    assert "request id is second-1" in out


def test_lp_lpstat_o_and_cancel_dest_id(tools: Tools) -> None:
    d1 = tools.lp("default")
    s1 = tools.lp("second")
    d2 = tools.lp("default")
    assert (d1, s1, d2) == (1, 1, 2)
    # lpstat -o DEST: Get-Jobs at ipp://localhost/ (every queue), filtered by job-printer-uri.
    assert tools.jobs("default") == {"default-1", "default-2"}
    assert tools.jobs() == {"default-1", "default-2", "second-1"}
    # cancel default-2 sends job-uri ipp://localhost/jobs/2: only the default queue has a 2.
    tools.run("cancel", "default-2")
    assert tools.jobs() == {"default-1", "second-1"}
    assert "default-2" in tools.jobs(which="completed")
    # Job 1 is on both queues and both are root's: never a guess.
    r = tools.run("cancel", "default-1", check=False)
    assert r.returncode == 1
    assert "job-id 1 is on several queues (default, second)" in r.stderr
    assert tools.jobs() == {"default-1", "second-1"}
    r = tools.run("cancel", "7", check=False)
    assert r.returncode == 1 and "no job 7 on any queue" in r.stderr


def test_cancel_id_finds_the_askers_job_among_queues(tools: Tools) -> None:
    assert tools.lp("default", "-U", "bob") == 1
    assert tools.lp("second") == 1            # root's
    tools.run("cancel", "1")                  # root's job 1 is the one on "second"
    assert tools.jobs() == {"default-1"}


def test_cancel_a_is_cancel_jobs_for_admins(tools: Tools) -> None:
    for queue in ("default", "default", "second"):
        tools.lp(queue)
    # Over TCP nobody is proven: Cancel-Jobs answers 401, the tool cannot prompt.
    r = tools.run("cancel", "-a", "default", check=False)
    assert r.returncode == 1 and "Unauthorized" in r.stderr, r.stderr
    assert tools.jobs() == {"default-1", "default-2", "second-1"}
    # root on the Unix socket is an admin: every job of "default", none of "second".
    tools.run("cancel", "-a", "default", local=True)
    assert tools.jobs() == {"second-1"}
    # cancel -a without a destination: Cancel-Jobs at ipp://localhost/printers/, every queue.
    tools.lp("default")
    tools.run("cancel", "-a", local=True)
    assert tools.jobs() == set()
    assert {"default-1", "default-2", "default-3", "second-1"} <= tools.jobs(which="completed")
    # cancel -a -x: Purge-Jobs at the root, every queue too.
    tools.lp("default")
    tools.lp("second")
    tools.run("cancel", "-a", "-x", local=True)
    assert tools.jobs() == set()


def test_the_queue_marked_default_is_cupss_default(tools: Tools) -> None:
    cmd = [*ippproxy_command(), "cmd", "--config", str(tools.proxy.config_path)]
    subprocess.run([*cmd, "queue", "add", "lab", "destination=builtin", "default=true"],
                   check=True, capture_output=True, timeout=60)
    deadline = time.monotonic() + 30
    while "destination: lab" not in tools.run("lpstat", "-d").stdout:
        assert time.monotonic() < deadline, tools.run("lpstat", "-d").stdout
        time.sleep(0.3)
    out = tools.run("lp", "-H", "indefinite", str(tools.document)).stdout
    assert "request id is lab-1" in out
    assert tools.jobs("lab") == {"lab-1"}


def test_through_a_cupsd_queue_whose_device_is_our_root(tmp_path: Path,
                                                        private_cupsd: PrivateCupsd) -> None:
    """A cupsd queue with device ``ipp://us/`` (the root): ``lpadmin -m everywhere`` reads
    the default queue's attributes there, cupsd's ipp backend sends the job there and
    follows it with printer-uri ``ipp://us/`` and its job-id: all of it is the queue the
    file marks default (here the second), and the job completes in both."""
    proxy = IppProxy(tmp_path / "proxy",
                     queues=[{"name": "first"}, {"name": "main", "default": True}],
                     forwarding={"poll_interval": 0.2})
    home = tmp_path / "home"
    home.mkdir()
    with proxy:
        private_cupsd.add_queue("viaroot", f"ipp://{proxy.authority}/")
        document = home / "hello.txt"
        document.write_text("through cupsd\n")
        job = private_cupsd.lp("viaroot", document)
        assert private_cupsd.wait_job_completed("viaroot", job, 60), private_cupsd.error_log()
        ours = Tools(proxy, home, tmp_path / "no-socket")
        assert ours.jobs("main", "completed") == {"main-1"}
        assert ours.jobs("first", "completed") == set()
        # cupsd's own lpstat shows its queue, our tools ours.
        assert "viaroot" in private_cupsd.run("lpstat", "-t").stdout
        assert "system default destination: main" in ours.run("lpstat", "-t").stdout
        assert not tracebacks(proxy.log()), proxy.log()


def test_cancel_and_lpoptions_through_a_cupsd_queue(tmp_path: Path,
                                                    private_cupsd: PrivateCupsd) -> None:
    """The tools on cupsd's queue whose device is our root, while our job waits (its
    printer does not answer): ``lpstat -t`` shows it, ``cancel`` makes cupsd's ipp backend
    cancel our job, ``cancel -a`` too, and ``lpoptions -d`` makes the queue the default."""
    with socket.socket() as s:           # a port nobody listens on: our jobs stay pending
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    proxy = IppProxy(tmp_path / "proxy", queues=[
        {"name": "main", "default": True, "destination": f"ipp://127.0.0.1:{dead}/ipp/print"}],
        forwarding={"poll_interval": 0.2})
    home = tmp_path / "home"
    home.mkdir()
    document = home / "hello.txt"
    document.write_text("through cupsd, then canceled\n")
    with proxy:
        ours = Tools(proxy, home, tmp_path / "no-socket")
        private_cupsd.add_queue("viaroot", f"ipp://{proxy.authority}/")

        def wait_ours(which: str, ids: set[str]) -> None:
            deadline = time.monotonic() + 60
            while ours.jobs("main", which) != ids:
                assert time.monotonic() < deadline, (ours.jobs("main", "all"),
                                                     private_cupsd.error_log()[-3000:])
                time.sleep(0.2)

        first = private_cupsd.lp("viaroot", document)
        wait_ours("not-completed", {"main-1"})               # sent on to us, waiting here
        assert f"viaroot-{first}" in private_cupsd.run("lpstat", "-t").stdout
        private_cupsd.run("cancel", f"viaroot-{first}")
        wait_ours("not-completed", set())                    # the backend canceled ours
        second = private_cupsd.lp("viaroot", document)
        wait_ours("not-completed", {"main-2"})
        private_cupsd.run("cancel", "-a", "viaroot")
        wait_ours("not-completed", set())
        assert ours.jobs("main", "completed") == {"main-1", "main-2"}   # ended ...
        deadline = time.monotonic() + 60                                 # ... canceled
        while not all(re.search(rf"job canceled: queue=main job-id={n} ", proxy.log())
                      for n in (1, 2)):
            assert time.monotonic() < deadline, proxy.log()[-3000:]
            time.sleep(0.2)
        assert second > first
        private_cupsd.run("lpoptions", "-d", "viaroot")
        assert "system default destination: viaroot" in private_cupsd.run("lpstat", "-d").stdout
        assert not tracebacks(proxy.log()), proxy.log()
