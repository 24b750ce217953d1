"""``ippproxy-client`` as a real subprocess (the console script of the environment, or
``python -m ippproxy.client``), its output read by a thread into a queue of lines."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from support.server import IppProxy


def client_command() -> list[str]:
    script = Path(sys.executable).parent / "ippproxy-client"
    return [str(script)] if script.exists() else [sys.executable, "-m", "ippproxy.client"]


def client_argv(proxy: IppProxy, config_dir: Path, args: tuple[str, ...], *, cafile: bool,
                socket: str | None = None, run_as: str | None = None) -> list[str]:
    """The client's command line: to the server's HTTPS URL, or (``socket``) over its local
    socket; ``run_as``: as that OS user (the test runs as root), see ``as_user``."""
    where = ["--socket", socket] if socket else \
        [proxy.https, *(["--cafile", str(proxy.cert)] if cafile else [])]
    user = as_user(run_as) if run_as else []
    return [*user, *client_command(), *where, "--config-dir", str(config_dir), "--json",
            "--no-notify", *args]


def as_user(name: str) -> list[str]:
    """Run as the OS user ``name`` (uid, gid and groups: what SO_PEERCRED reports), keeping
    only the capability to read files: the environment's interpreter may live under a
    directory the user cannot enter (a pyenv under /root), and the user must still start
    it. Reading is all it grants; the identity the server sees is the user's."""
    return ["setpriv", "--reuid", name, "--regid", name, "--init-groups",
            "--inh-caps", "+dac_read_search", "--ambient-caps", "+dac_read_search", "--"]


class UserClient:
    def __init__(self, proxy: IppProxy, config_dir: Path, *args: str, stdin: str = "",
                 cafile: bool = True, socket: str | None = None,
                 run_as: str | None = None) -> None:
        argv = client_argv(proxy, config_dir, args, cafile=cafile, socket=socket,
                           run_as=run_as)
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        assert self.proc.stdin is not None
        self.proc.stdin.write(stdin)
        self.proc.stdin.close()
        self.lines: queue.Queue[dict[str, Any]] = queue.Queue()
        self.seen: list[dict[str, Any]] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(json.loads(line))

    def next(self, event: str, timeout: float = 60.0, where: Any = None) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            assert left > 0, f"no {event} from the client; saw {self.seen}"
            try:
                got = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            self.seen.append(got)
            if got["event"] == event and (where is None or where(got["data"])):
                return dict(got["data"])

    def wait(self, timeout: float = 60.0) -> tuple[int, str]:
        code = self.proc.wait(timeout)
        assert self.proc.stderr is not None
        return code, self.proc.stderr.read()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(30)


def run_client(proxy: IppProxy, config_dir: Path, *args: str, stdin: str = "",
               cafile: bool = True, socket: str | None = None,
               run_as: str | None = None) -> tuple[int, list[dict[str, Any]], str]:
    """A client run to its end: exit code, its JSON lines, its stderr."""
    argv = client_argv(proxy, config_dir, args, cafile=cafile, socket=socket, run_as=run_as)
    r = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=120,
                       check=False)
    return r.returncode, [json.loads(x) for x in r.stdout.splitlines() if x.strip()], r.stderr
