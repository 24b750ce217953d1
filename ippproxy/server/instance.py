"""One server per spool and SQLite database: the instance lock, and start-up errors as one line.

Theory of operation. ``ippproxy serve`` takes an exclusive POSIX record lock
(``fcntl.lockf``, F_SETLK) on a lock file in the spool directory, and on SQLite one
beside the database file, before it opens anything else: a second server on the same
configuration finds the lock held and stops before it has read or written a job. The
lock files hold the holder's pid and address, so the refusal names the running server.
Record locks belong to the process: they are not inherited by the analysis workers
it forks and vanish when it dies (``kill -9`` included), so a crash never leaves a
stale lock behind. Several nodes share one PostgreSQL database and one spool by design
(``storage.node``): each node locks its own file in the spool, so two processes with
the same node name cannot both run.

A ``StartupError`` carries the one line the command prints before it exits 2;
``explain`` turns anything raised while starting into such a line (the traceback goes to
the log at DEBUG).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

log = logging.getLogger(__name__)

LOCK_NAME = ".ippproxy.lock"


class StartupError(Exception):
    """The server cannot start; ``str()`` is the one line shown to the operator."""


@dataclass(frozen=True)
class Holder:
    """What a lock file says about the server holding it."""

    pid: str
    address: str

    def describe(self) -> str:
        return f"pid {self.pid or '?'}, listening on {self.address or '?'}"


def lock_paths(database: str, spool: str, node: str = "") -> list[Path]:
    """The lock files of a configuration: the spool's (one per node name), and on SQLite
    the database file's (``ippproxy.db.lock``)."""
    name = f".ippproxy-{node}.lock" if node else LOCK_NAME
    paths = [Path(spool).absolute() / name]
    with contextlib.suppress(ArgumentError, ValueError):
        url = make_url(database)
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            paths.append(Path(f"{Path(url.database).absolute()}.lock"))
    return paths


def _read_holder(fd: int) -> Holder:
    os.lseek(fd, 0, os.SEEK_SET)
    text = os.read(fd, 4096).decode("utf-8", "replace")
    fields = dict(part.partition("=")[::2] for part in text.split())
    return Holder(fields.get("pid", ""), fields.get("address", ""))


class InstanceLock:
    """Held from ``acquire`` to ``release`` (or the end of the process)."""

    def __init__(self, fds: list[int]) -> None:
        self._fds = fds

    @classmethod
    def acquire(cls, paths: list[Path], address: str) -> InstanceLock:
        """Lock every file in ``paths`` or raise ``StartupError`` naming the holder."""
        fds: list[int] = []
        try:
            for path in paths:
                fds.append(_lock_one(path, address))
        except BaseException:
            for fd in fds:
                os.close(fd)
            raise
        return cls(fds)

    def release(self) -> None:
        for fd in self._fds:
            os.close(fd)   # closing the descriptor drops the process's record lock
        self._fds = []


def _lock_one(path: Path, address: str) -> int:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        raise StartupError(f"cannot open the lock file {path}: {e.strerror}") from None
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        holder = _read_holder(fd)
        os.close(fd)
        raise StartupError(f"another ippproxy is running on this configuration "
                           f"({holder.describe()}; lock {path})") from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"pid={os.getpid()} address={address}\n".encode(), 0)
    return fd


def explain(exc: BaseException) -> str:
    """One line for an error raised while starting: the first line of its message."""
    if isinstance(exc, StartupError):
        return str(exc)
    log.debug("start-up failed", exc_info=exc)
    text = str(exc).strip().splitlines()
    first = text[0] if text else ""
    return f"cannot start: {type(exc).__name__}: {first}" if first else \
        f"cannot start: {type(exc).__name__}"
