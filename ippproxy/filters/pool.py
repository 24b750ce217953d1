"""``AnalysisPool``: document analysis and conversion off the event loop, with limits.

Theory of operation
-------------------
The pool keeps ``workers`` long-lived worker processes (worker.py), each in
its own session so that it and its Ghostscript children can be killed as a
group.  A worker first sets its own RLIMIT_AS = ``memory_bytes`` (inherited by
gs; set by the worker, not by a preexec_fn, which is unsafe in the threaded server)
and sets RLIMIT_CPU to ``cpu_seconds`` more than it has used before each
request; the pool enforces ``wall_seconds`` per request.

A request takes an idle worker, first come first served: a worker that
comes back goes straight to the oldest waiting request, so a caller that asks
again at once cannot take it ahead of those already waiting (an
``asyncio.Queue`` lets it, and under load a few requests then waited for many
others' analyses). At most ``queue_size`` requests may wait, beyond that
``PoolFull`` (``server-error-busy``) is raised at once.  Requests and answers are JSON
lines over pipes.  When a worker fails (killed by a limit, crashed, timed out, reported a
fatal error, or answered garbage: anything but the shape asked for, which a worker that a
hostile document subverted may write) the
request gets an ``AnalysisError`` subclass with a clear reason, the worker's
process group is killed and a fresh worker takes its place; other requests
are not affected.

``analyse_bytes`` sends a small document itself (base64 in the request line)
instead of a path, so that a document held in memory needs no file to be
analysed (analysis.analyse_bytes).  Each request runs in its own private directory
(sandbox.py: 0700, its ``TMPDIR`` and Ghostscript's only permitted path, emptied
when the request ends); for ``analyse_bytes`` it is the worker's, kept between its
requests in a directory of its own (``_Worker.home``, removed with the worker), so that
the event loop makes no file system call for it; when the server is root the workers run as ``user``
(default ``nobody``) and read copies of their inputs there.  Reasons never
show server paths (``sandbox.hide_paths``).
Every analysis carries its stage timings (``DocumentAnalysis.stages``): the
worker's own, and the pool's ``queue`` (waiting for an idle worker) and ``ipc``
(the pipe round trip: wall time minus the time the worker reports).
"""

from __future__ import annotations

import asyncio
import base64
import collections
import contextlib
import json
import math
import os
import shutil
import signal
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from ippproxy.filters import errors
from ippproxy.filters.errors import AnalysisError, LimitExceeded, PoolFull
from ippproxy.filters.model import STAGES, DocumentAnalysis, PageSize
from ippproxy.filters.sandbox import Scratch, WorkerUser, hide_paths, worker_user

_ERRORS: dict[str, type[AnalysisError]] = {
    c.__name__: c for c in (errors.AnalysisError, errors.FormatError, errors.UnsupportedFormat,
                            errors.PasswordRequired, errors.LimitExceeded)}
_LINE_LIMIT = 64 << 20     # an answer holds at most ~100k page sizes
# Larger documents are analysed from a file: a request line holds the whole document.
MAX_INLINE_BYTES = 16 << 20
WORKER_STAGES = frozenset(STAGES) - {"queue", "ipc"}    # the pool measures those two
T = TypeVar("T")


@dataclass(frozen=True)
class _Answer:
    result: Any
    queue: float    # seconds waiting for an idle worker
    ipc: float      # seconds of the round trip not spent inside the worker


class _Worker:
    def __init__(self, proc: asyncio.subprocess.Process, home: Path) -> None:
        self.proc = proc
        self.home = home     # where it makes its own requests' directories (sandbox.py)

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)


class AnalysisPool:
    def __init__(self, workers: int = 2, *, queue_size: int = 32, cpu_seconds: int = 60,
                 memory_bytes: int = 2 << 30, wall_seconds: float = 120.0,
                 user: str | None = None) -> None:
        self.size = workers
        self.queue_size = queue_size
        self.cpu_seconds = cpu_seconds
        self.memory_bytes = memory_bytes
        self.wall_seconds = wall_seconds
        self._idle: collections.deque[_Worker] = collections.deque()
        self._waiters: collections.deque[asyncio.Future[_Worker]] = collections.deque()
        self._all: set[_Worker] = set()
        self._closed = False
        self._scratch: Scratch | None = None
        self._user_name = user
        self.user: WorkerUser | None = None    # whom the workers run as, when we are root
        self.replaced = 0           # workers replaced after a failure (for tests and metrics)

    @property
    def waiting(self) -> int:
        """Requests waiting for a worker (the analysis queue's length)."""
        return sum(1 for w in self._waiters if not w.done())

    @property
    def busy(self) -> int:
        """Workers holding a request (taken from the idle set, not yet given back)."""
        return len(self._all) - len(self._idle)

    async def __aenter__(self) -> AnalysisPool:  # noqa: PYI034
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def start(self) -> None:
        self.user = worker_user(self._user_name)
        self._scratch = Scratch(self.user)
        for w in await asyncio.gather(*(self._spawn() for _ in range(self.size))):
            self._release(w)

    async def close(self) -> None:
        self._closed = True
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(AnalysisError("the analysis pool is closed"))
        for w in list(self._all):
            w.kill()
            with contextlib.suppress(Exception):
                await w.proc.wait()
        self._all.clear()
        if self._scratch is not None:
            self._scratch.close()

    async def _spawn(self) -> _Worker:
        # The worker drops to self.user itself, after its imports (worker.drop_privileges):
        # the interpreter may live where that user cannot read.
        assert self._scratch is not None
        home = self._scratch.worker_dir()
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "ippproxy.filters.worker", str(self.memory_bytes),
            self.user.arg if self.user is not None else "-", str(home),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL, start_new_session=True,
            limit=_LINE_LIMIT)
        w = _Worker(proc, home)
        self._all.add(w)
        return w

    async def _replace(self, w: _Worker) -> None:
        w.kill()
        with contextlib.suppress(Exception):
            await w.proc.wait()
        self._all.discard(w)
        self.replaced += 1
        await asyncio.to_thread(shutil.rmtree, w.home, True)   # what a dead worker left
        if not self._closed:
            self._release(await self._spawn())

    async def _acquire(self) -> _Worker:
        """An idle worker, or the first one back after those who waited before us."""
        if self._idle and not self._waiters:
            return self._idle.popleft()
        waiter: asyncio.Future[_Worker] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release(waiter.result())   # handed over as we were cancelled
            else:
                with contextlib.suppress(ValueError):
                    self._waiters.remove(waiter)
            raise

    def _release(self, w: _Worker) -> None:
        """``w`` is idle: to the oldest waiting request, else back in the idle set."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(w)
                return
        self._idle.append(w)

    async def _call(self, request: dict[str, Any], parse: Callable[[_Answer], T],
                    timeout: float | None = None, own_directory: bool = False) -> T:
        """One request to an idle worker, its answer read by ``parse`` (which raises
        ValueError, KeyError or TypeError on garbage); ``own_directory``: the request's
        private directory is the worker's own, in its ``home`` (sandbox.request_dir)."""
        if self._closed:
            raise AnalysisError("the analysis pool is closed")
        if not self._idle and len(self._waiters) >= self.queue_size:
            raise PoolFull(f"the analysis queue is full ({self.queue_size} documents waiting)")
        asked = time.perf_counter()
        w = await self._acquire()
        taken = time.perf_counter()
        request = {**request, "cpu_seconds": self.cpu_seconds}
        if own_directory:
            request["tmp_in"] = str(w.home)
        wall = self.wall_seconds if timeout is None else timeout
        assert w.proc.stdin is not None and w.proc.stdout is not None
        try:
            # asyncio.timeout, not wait_for: Python 3.11's wait_for wraps the read in a
            # task of its own, each request.
            async with asyncio.timeout(wall):
                w.proc.stdin.write(json.dumps(request).encode() + b"\n")
                await w.proc.stdin.drain()
                line = await w.proc.stdout.readline()
            answered = time.perf_counter()
        except TimeoutError:
            await self._replace(w)
            raise LimitExceeded(f"analysis took longer than {wall:g} s") from None
        except (ConnectionError, asyncio.LimitOverrunError, ValueError):
            await self._replace(w)
            raise AnalysisError("the analysis worker failed") from None
        except BaseException:
            await self._replace(w)   # cancelled: the worker may still be busy
            raise
        if not line:
            rc = await w.proc.wait()
            await self._replace(w)
            raise _death(rc)
        # The answer comes from a process that reads hostile documents: anything but the
        # shape we asked for is garbage, and that worker is not trusted with another request.
        try:
            reply = json.loads(line)
            if not isinstance(reply, dict):
                raise TypeError("not an object")
            outcome: T | AnalysisError = (
                parse(_Answer(reply.get("result"), taken - asked,
                              max(0.0, answered - taken - _nonnegative(reply.get("worker_seconds")))))
                if reply.get("ok") is True else _failure(reply))
        except (ValueError, KeyError, TypeError):
            await self._replace(w)
            raise AnalysisError("the analysis worker answered garbage") from None
        if w.proc.returncode is None and reply.get("error") != "LimitExceeded":
            self._release(w)
        else:
            await self._replace(w)
        if isinstance(outcome, AnalysisError):
            raise outcome
        return outcome

    @contextlib.contextmanager
    def _private(self) -> Iterator[Path]:
        if self._closed or self._scratch is None:
            raise AnalysisError("the analysis pool is closed")
        with self._scratch.open() as d:
            yield d

    async def _stage(self, src: Path, d: Path) -> Path:
        assert self._scratch is not None
        try:
            return await asyncio.to_thread(self._scratch.stage, src, d)
        except OSError as e:
            raise AnalysisError(f"the document cannot be read ({e.strerror})") from None

    async def analyse(self, path: Path | str, fmt: str, *, colour: bool = True,
                      timeout: float | None = None) -> DocumentAnalysis:
        """Analyse one document file (see analysis.analyse) in a worker.

        ``timeout`` overrides the pool's wall-clock limit for this document.
        """
        with self._private() as d:
            src = await self._stage(Path(path), d)
            return await self._call({"op": "analyse", "path": str(src), "format": fmt,
                                     "colour": colour, "tmp": str(d)}, _analysis, timeout)

    async def analyse_bytes(self, data: bytes, fmt: str, *, colour: bool = True,
                            timeout: float | None = None) -> DocumentAnalysis:
        """``analyse`` of a document held in memory (at most ``MAX_INLINE_BYTES``): it is
        sent to the worker, which writes no file for a PDF unless Ghostscript must
        render a page (analysis.analyse_bytes)."""
        if len(data) > MAX_INLINE_BYTES:
            raise ValueError(f"{len(data)} bytes: analyse documents over "
                             f"{MAX_INLINE_BYTES} bytes from a file")
        if self._closed or self._scratch is None:
            raise AnalysisError("the analysis pool is closed")
        return await self._call({
            "op": "analyse", "data": base64.b64encode(data).decode("ascii"), "format": fmt,
            "colour": colour}, _analysis, timeout, own_directory=True)

    async def ping(self) -> int:
        """The process id of the worker that answered (it has started, and dropped root)."""
        return await self._call({"op": "ping"}, _pid)

    async def convert(self, kind: str, src: Path | str, dst: Path | str, *,
                      timeout: float | None = None, **options: Any) -> None:
        """Run ``convert.CONVERTERS[kind](src, dst, **options)`` in a worker."""
        with self._private() as d:
            assert self._scratch is not None
            staged, out = await self._stage(Path(src), d), self._scratch.output(Path(dst), d)
            await self._call({"op": "convert", "kind": kind, "src": str(staged), "dst": str(out),
                              "options": options, "tmp": str(d)}, _nothing, timeout)
            try:
                await asyncio.to_thread(self._scratch.install, out, Path(dst))
            except OSError as e:
                raise AnalysisError(f"the converted document cannot be stored ({e.strerror})"
                                    ) from None


def _analysis(answer: _Answer) -> DocumentAnalysis:
    """The worker's ``analysis_to_json`` back; ValueError, KeyError or TypeError if it is
    not that shape."""
    r = answer.result
    if not isinstance(r, dict):
        raise TypeError("not an object")
    colour = r["colour_pages"]
    return DocumentAnalysis(
        format=_text(r["format"]), pages=None if r["pages"] is None else _count(r["pages"]),
        page_sizes=tuple(PageSize(_nonnegative(w), _nonnegative(h)) for w, h in r["page_sizes"]),
        colour_pages=None if colour is None else tuple(_count(p) for p in colour),
        methods=tuple(_text(m) for m in r["methods"]),
        notes=tuple(_text(n) for n in r["notes"]), seconds=_nonnegative(r["seconds"]),
        stages=(("queue", answer.queue), ("ipc", answer.ipc), *_worker_stages(r)))


def _pid(answer: _Answer) -> int:
    return _count(answer.result)


def _nothing(answer: _Answer) -> None:
    """A conversion answers nothing but its success."""


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError("not a string")
    return value


def _count(value: object) -> int:
    """A page count or number: a non-negative int (JSON's true is not one)."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError("not a count")
    return value


def _nonnegative(value: object) -> float:
    """A time or a length: a finite, non-negative number (0 when absent)."""
    if value is None:
        return 0.0
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise TypeError("not a number")
    if not (math.isfinite(value) and value >= 0):
        raise ValueError("not a finite, non-negative number")
    return float(value)


def _failure(reply: dict[str, Any]) -> AnalysisError:
    """The error a worker reported, by its class name (an unknown one: AnalysisError)."""
    cls = _ERRORS.get(str(reply.get("error")), AnalysisError)
    return cls(hide_paths(str(reply.get("reason", "analysis failed")))[:500])


def _worker_stages(r: dict[str, Any]) -> Iterator[tuple[str, float]]:
    """The worker's own stage timings, as far as they are ours: a known name (STAGES) and
    a finite, non-negative time. The answer comes from a process that reads hostile
    documents, and the names become metric labels (metrics.py)."""
    stages = r.get("stages")
    for item in stages if isinstance(stages, list) else ():
        if not (isinstance(item, list) and len(item) == 2):
            continue
        name, sec = item
        if name not in WORKER_STAGES or sec is None:
            continue
        try:
            seconds = _nonnegative(sec)
        except (TypeError, ValueError):   # a timing is not worth failing the analysis for
            continue
        yield name, seconds


def _death(rc: int) -> AnalysisError:
    if rc == -signal.SIGXCPU:
        return LimitExceeded("the document needs more CPU time than allowed")
    if rc in (-signal.SIGKILL, -signal.SIGSEGV, -signal.SIGABRT, 3):
        return LimitExceeded("the document needs more memory than allowed "
                             f"(worker ended with {rc})")
    return AnalysisError(f"the analysis worker ended unexpectedly ({rc})")
