"""Where a worker may write, and who it runs as: the private directory of each request.

Theory of operation
-------------------
Every pool request gets its own directory (``Scratch.open``), mode 0700, under the
pool's scratch root, removed when the request ends whatever happened.  The worker
makes it the request's ``TMPDIR`` (for itself and for the Ghostscript it starts) and
Ghostscript's only permitted path besides its input and output (ghostscript.py):
with ``/tmp`` as TMPDIR, gs 10.00 (Debian 12) under ``-dSAFER`` lets a PostScript
job read, list and write ``/tmp``, because gs always permits its temporary directory.

When the server runs as root, the workers drop to an unprivileged user
(``analysis.user``, default ``nobody``) right after they start, before they read
a request (worker.py ``drop_privileges``).  They then cannot read the spool, so the
pool copies a document the worker must read from a file into the request's
directory (owned by the worker's user) and the worker writes a conversion's output
there; the pool, still root, moves the output to its destination.  A document held
in memory (``analyse_bytes``) travels in the request and needs no copy; its private
directory is the worker's own: one directory inside a directory of that worker
(``Scratch.worker_dir``, removed by the pool with the worker), kept between requests
and empty whenever a request starts (``request_dir``, ``after_request``). A worker
handles one request at a time, so an empty directory of its own is as private as a
new one; keeping it spares the file system a directory made and removed per request,
which on ext4 costs more than the content scan of a one-page PDF.  We chose
copies over passing open descriptors because Ghostscript and pikepdf open their
input by name, and a name under ``/proc/self/fd`` is checked against the file's
permissions again.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

DEFAULT_USER = "nobody"
REQUEST_DIR = "request"      # in a worker's own directory: see request_dir
# Absolute paths with at least two parts; gs error names ("/invalidfileaccess") have one.
_PATH = re.compile(r"/[^\s'\"/:,()\[\]]+(?:/[^\s'\"/:,()\[\]]*)+")


@dataclass(frozen=True)
class WorkerUser:
    """The unprivileged account the workers run as (``uid:gid`` on their command line)."""

    name: str
    uid: int
    gid: int

    @property
    def arg(self) -> str:
        return f"{self.uid}:{self.gid}"


def worker_user(name: str | None = None) -> WorkerUser | None:
    """The user to drop to: ``None`` unless the server runs as root.

    Raises ``ValueError`` for an unknown user or one with uid 0."""
    if os.geteuid() != 0:
        return None
    try:
        pw = pwd.getpwnam(name or DEFAULT_USER)
    except KeyError:
        raise ValueError(f"analysis.user {name or DEFAULT_USER!r} does not exist") from None
    if pw.pw_uid == 0 or pw.pw_gid == 0:
        raise ValueError(f"analysis.user {pw.pw_name!r} is root: workers must not be")
    return WorkerUser(pw.pw_name, pw.pw_uid, pw.pw_gid)


def hide_paths(message: str) -> str:
    """``message`` with every absolute path cut to its last part (for status-message)."""
    return _PATH.sub(lambda m: m.group(0).rstrip("/").rsplit("/", 1)[-1] or "file", message)


class Scratch:
    """The pool's scratch root (0700, the workers' user's) and the requests' directories."""

    def __init__(self, user: WorkerUser | None) -> None:
        self.user = user
        self.root = Path(tempfile.mkdtemp(prefix="ippproxy-analysis-"))
        self._own(self.root)

    def _own(self, path: Path) -> None:
        if self.user is not None:
            os.chown(path, self.user.uid, self.user.gid)

    @contextlib.contextmanager
    def open(self) -> Iterator[Path]:
        """A fresh private directory for one request, removed when it ends."""
        d = self.root / secrets.token_hex(8)
        os.mkdir(d, 0o700)
        try:
            self._own(d)
            yield d
        finally:
            remove(d)

    def worker_dir(self) -> Path:
        """A directory of one worker (0700, the workers' user's), in which that worker makes
        the private directories of the requests it handles itself (``analyse_bytes``):
        nothing is created or removed on the server's event loop for them."""
        d = self.root / ("w-" + secrets.token_hex(8))
        os.mkdir(d, 0o700)
        self._own(d)
        return d

    def stage(self, src: Path, directory: Path) -> Path:
        """The name under which the worker can read ``src``: itself when the worker runs
        as we do, else a read-only copy in ``directory`` (blocking: run in a thread)."""
        if self.user is None:
            return src
        copy = directory / ("input" + "".join(src.suffixes[-1:]))
        shutil.copyfile(src, copy)
        os.chmod(copy, 0o400)
        self._own(copy)
        return copy

    def output(self, dst: Path, directory: Path) -> Path:
        """Where the worker writes what belongs at ``dst``."""
        return dst if self.user is None else directory / ("output" + "".join(dst.suffixes[-1:]))

    def install(self, written: Path, dst: Path) -> None:
        """Move the worker's output to ``dst``, ours and atomically (blocking)."""
        if written == dst:
            return
        os.chown(written, os.geteuid(), os.getegid())
        os.chmod(written, 0o600)
        try:
            os.replace(written, dst)
        except OSError:      # another file system: copy beside dst, then rename
            fd, tmp = tempfile.mkstemp(dir=dst.parent, prefix=f".{dst.name}.", suffix=".part")
            os.close(fd)
            try:
                shutil.copyfile(written, tmp)
                os.replace(tmp, dst)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def request_dir(home: Path | str) -> str:
    """The private directory (0700) of a worker's next request, in its ``home``: made,
    or, should an earlier request have left anything in it, emptied first."""
    directory = os.path.join(home, REQUEST_DIR)
    try:
        os.mkdir(directory, 0o700)
    except FileExistsError:
        if _has_entries(directory):
            shutil.rmtree(directory)
            os.mkdir(directory, 0o700)
    return directory


def after_request(directory: str) -> None:
    """A request ended: nothing it wrote stays for the next one (the directory goes, and
    ``request_dir`` makes it again, only when something was written)."""
    if _has_entries(directory):
        shutil.rmtree(directory, ignore_errors=True)


def _has_entries(directory: str) -> bool:
    try:
        with os.scandir(directory) as entries:
            return next(entries, None) is not None
    except FileNotFoundError:
        return False


def remove(directory: Path | str) -> None:
    """Remove a request's directory: one ``rmdir`` when it is empty (most requests write
    nothing), else the whole tree."""
    try:
        os.rmdir(directory)
    except FileNotFoundError:
        pass
    except OSError:
        shutil.rmtree(directory, ignore_errors=True)
