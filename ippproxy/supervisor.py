"""Several server processes on one port (``server.workers``): the pre-fork model.

Theory of operation
-------------------
One Python process runs one event loop on one core; ``server.workers = N`` runs N of
them. The parent takes the instance lock (server/instance.py) and binds the port, then
forks the workers before it has started a thread or an event loop. Each worker is a
node of its own on the shared database and spool (``storage.node`` plus ``-<i>``, or
``w<i>`` on a single-node configuration): it takes its node's lock, recovers its own
claims and runs the whole server (``app.serve_on``) on the inherited sockets. The kernel
spreads new connections over the workers: each listens on a socket of its own with
SO_REUSEPORT (the parent holds the port bound but takes no connection), and the kernel
picks one by a hash of the connection's addresses. (One shared listening socket was
tried first: the worker that woke first took a whole burst of connections in its
accept loop, and the other served none of a benchmark's eight.) Everything the nodes share is in
the database (jobs, leases, queue states, the catalog, sessions, IPP subscriptions), as
for nodes on several machines.

Worker 0 starts alone and is the primary: it runs the migrations, prints the first-start
password, starts the built-in virtual printer and announces the queues by DNS-SD; only
it listens on ``server.unix_socket``. The others are forked once it is ready, one after
the other; the ready line is printed once all are. A worker that cannot start stops the
server (exit 2, its one line on stderr).

The parent only supervises. It waits for signals (``sigwait``, the signals blocked in
the parent and unblocked in each child): SIGTERM or SIGINT is passed on as SIGTERM to
every worker, which stops gracefully, and the parent returns when all have exited (a
worker still running after ``STOP_TIMEOUT`` is killed). A worker that dies on its own
(a crash, ``kill -9``) is forked again, after a pause that doubles while workers keep
dying young; its acknowledged jobs are in the database and it recovers them as it
starts. Workers are in their own process group (a terminal's Ctrl-C reaches the parent
only, which stops them in order) and die with the parent (``PR_SET_PDEATHSIG``), so a
``kill -9`` of the parent does not leave them serving without supervision.

Each worker's ``/metrics`` are its own: a scraper sees the worker its connection
reached (``ippproxy_`` counters carry no worker label yet).
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import logging
import os
import select
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ippproxy.app import listen, serve_on
from ippproxy.config import Config
from ippproxy.policies import Policy
from ippproxy.server.instance import InstanceLock, StartupError, explain, lock_paths
from ippproxy.server.listener import rebind

log = logging.getLogger(__name__)

SIGNALS = {signal.SIGTERM, signal.SIGINT, signal.SIGCHLD}
# Seconds a worker has to start (migrations on a large database run in worker 0).
START_TIMEOUT = 300.0
# Seconds the workers have to stop after SIGTERM before they are killed.
STOP_TIMEOUT = 60.0
# A worker that dies within this many seconds of its start died young: the next start
# waits twice as long as the last, up to RESPAWN_MAX.
YOUNG = 30.0
RESPAWN_FIRST = 0.5
RESPAWN_MAX = 30.0
PR_SET_PDEATHSIG = 1     # prctl(2)

Runner = Callable[[Coroutine[Any, Any, None]], None]


def worker_count(config: Config) -> int:
    """``server.workers``, 0 meaning one per CPU core this process may use."""
    if config.server.workers:
        return config.server.workers
    return max(1, len(os.sched_getaffinity(0)))


def worker_node(config: Config, index: int) -> str:
    """The node name of worker ``index``: stable across restarts, so that a restarted
    worker finds its own claims."""
    base = config.storage.node
    return f"{base}-{index}" if base else f"w{index}"


def worker_config(config: Config, index: int) -> Config:
    """What worker ``index`` serves: its node name; the local socket in worker 0 only
    (a path has one listener)."""
    server = config.server if index == 0 else dataclasses.replace(config.server,
                                                                  unix_socket="")
    return dataclasses.replace(
        config, server=server,
        storage=dataclasses.replace(config.storage, node=worker_node(config, index)))


@dataclass
class _Worker:
    index: int
    pid: int
    started: float


class Supervisor:
    """Forks, watches and stops the workers (see the module docstring)."""

    def __init__(self, config: Config, policies: Iterable[Policy], run: Runner,
                 count: int) -> None:
        self.config, self.policies, self.run, self.count = config, tuple(policies), run, count
        self.sockets: list[socket.socket] = []
        self.workers: dict[int, _Worker] = {}     # pid -> worker
        self.pause = RESPAWN_FIRST
        self.addresses: list[tuple[str, int]] = []
        self.metrics_dir: Path | None = None

    # -- the parent ------------------------------------------------------------------

    def start(self, ready: Callable[[list[tuple[str, int]]], None] | None) -> None:
        self.sockets = listen(self.config, workers=True)
        # Where each worker leaves its metrics for the one a scrape reaches
        # (server/metrics_share.py); 0700, removed when the server stops.
        self.metrics_dir = Path(tempfile.mkdtemp(prefix="ippproxy-metrics-"))
        self.addresses = [(str(s.getsockname()[0]), int(s.getsockname()[1]))
                          for s in self.sockets]
        for index in range(self.count):
            pid = self._fork(index, wait=True)
            if pid is None:
                self.stop()
                raise StartupError(f"worker {index} did not start (see above)")
        log.info("%d workers serving on %s", self.count,
                 ", ".join(f"{h}:{p}" for h, p in self.addresses))
        if ready is not None:
            ready(self.addresses)

    def supervise(self) -> None:
        """Until SIGTERM or SIGINT: reap and replace workers that die."""
        while True:
            sig = signal.sigwait(SIGNALS)
            if sig != signal.SIGCHLD:
                log.info("shutting down %d workers", len(self.workers))
                return
            for worker, status in self._reap():
                lived = time.monotonic() - worker.started
                log.warning("worker %d (pid %d) ended (%s) after %.0f s; starting it again",
                            worker.index, worker.pid, _describe(status), lived)
                self.pause = (min(self.pause * 2, RESPAWN_MAX) if lived < YOUNG
                              else RESPAWN_FIRST)
                time.sleep(self.pause)
                self._fork(worker.index, wait=False)

    def stop(self) -> None:
        for worker in self.workers.values():
            with contextlib.suppress(ProcessLookupError):
                os.kill(worker.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        while self.workers and time.monotonic() < deadline:
            self._reap()
            if self.workers:
                time.sleep(0.05)
        for worker in self.workers.values():
            log.warning("worker %d (pid %d) did not stop; killing it", worker.index,
                        worker.pid)
            with contextlib.suppress(ProcessLookupError):
                os.kill(worker.pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(worker.pid, 0)
        self.workers.clear()
        for sock in self.sockets:
            sock.close()
        if self.metrics_dir is not None:
            shutil.rmtree(self.metrics_dir, ignore_errors=True)

    def _reap(self) -> list[tuple[_Worker, int]]:
        ended = []
        while self.workers:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            worker = self.workers.pop(pid, None)
            if worker is not None:
                ended.append((worker, status))
        return ended

    def _fork(self, index: int, *, wait: bool) -> int | None:
        """Fork worker ``index``; with ``wait``, return its pid once it accepts, or None
        if it ended first (it said why on stderr)."""
        parent = os.getpid()
        read_end, write_end = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:                               # the worker
            os.close(read_end)
            code = 1
            try:
                code = self._child(index, parent, write_end)
            except BaseException:
                log.exception("worker %d failed", index)
            finally:
                os._exit(code)
        os.close(write_end)
        self.workers[pid] = _Worker(index, pid, time.monotonic())
        try:
            if not wait:
                return pid
            readable, _, _ = select.select([read_end], [], [], START_TIMEOUT)
            if readable and os.read(read_end, 1) == b"1":
                return pid
            self._reap_one(pid)
            return None
        finally:
            os.close(read_end)

    def _reap_one(self, pid: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
        self.workers.pop(pid, None)

    # -- a worker --------------------------------------------------------------------

    def _child(self, index: int, parent: int, ready_fd: int) -> int:
        signal.pthread_sigmask(signal.SIG_SETMASK, set())
        os.setpgid(0, 0)
        _die_with_parent()
        if os.getppid() != parent:            # the parent died before the line above
            return 1
        config = worker_config(self.config, index)
        spool_lock = lock_paths(config.storage.database, config.storage.spool,
                                config.storage.node)[:1]

        def ready(_addresses: list[tuple[str, int]]) -> None:
            with contextlib.suppress(OSError):
                os.write(ready_fd, b"1")
                os.close(ready_fd)

        try:
            lock = InstanceLock.acquire(spool_lock, f"worker {index} of pid {parent}")
            try:
                sockets = rebind(self.sockets)
                for held in self.sockets:   # the parent's; it keeps them
                    held.close()
                self.run(serve_on(config, sockets, self.policies, ready,
                                  primary=index == 0, metrics_dir=self.metrics_dir))
            finally:
                lock.release()
        except StartupError as e:
            print(f"ippproxy serve: worker {index}: {e}", file=sys.stderr, flush=True)
            return 2
        except Exception as e:  # noqa: BLE001 - one line; the traceback goes to the log
            print(f"ippproxy serve: worker {index}: {explain(e)}", file=sys.stderr,
                  flush=True)
            return 1
        return 0


def serve_workers(config: Config, run: Runner, *, policies: Iterable[Policy] = (),
                  ready: Callable[[list[tuple[str, int]]], None] | None = None) -> None:
    """``ippproxy serve`` with ``server.workers`` other than 1: the parent's whole life."""
    count = worker_count(config)
    lock = InstanceLock.acquire(
        lock_paths(config.storage.database, config.storage.spool, config.storage.node),
        f"{config.server.listen}:{config.server.port}")
    old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)
    supervisor = Supervisor(config, policies, run, count)
    try:
        supervisor.start(ready)
        supervisor.supervise()
    finally:
        supervisor.stop()
        signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)
        lock.release()


def _die_with_parent() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"signal {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit {os.WEXITSTATUS(status)}"
