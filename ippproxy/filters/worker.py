"""The analysis worker process: ``python -m ippproxy.filters.worker``.

Reads one JSON request per line on stdin, answers one JSON line on its
private copy of stdout (fd 1 itself is pointed at stderr so that nothing a
library prints can corrupt the channel).  JSON, not pickle: a worker that a
hostile document subverted cannot execute code in the server by its answer.
Before each request the soft RLIMIT_CPU is set to the CPU time used so far
plus the request's budget (the kernel then sends SIGXCPU); RLIMIT_AS is set
at start from the pool's ``memory_bytes`` (argv[1]).

An ``analyse`` request names a file (``path``) or carries the document itself
(``data``, base64: a small document the server holds in memory).  Each request
names its private directory (``tmp``, sandbox.py): the request's ``TMPDIR``, where
a file the analysis needs goes, and Ghostscript's only permitted path; or the worker's
own directory (``tmp_in``), where the worker keeps the directory of such requests,
empty whenever one starts (sandbox.py ``request_dir``).  argv[2] is
``uid:gid`` when the worker must drop root before reading requests (``-`` if not);
argv[3] is the worker's own directory, where its resident Ghostscript (resident.py)
may read the documents analysed from memory.  Every answer
says how long the worker spent on it (``worker_seconds``, from reading the line to
writing the answer), so that the pool can tell its own hand-off time apart.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import resource
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from ippproxy.filters import analysis, ghostscript
from ippproxy.filters.analysis import analyse, analyse_bytes
from ippproxy.filters.colour import RENDER_DPI
from ippproxy.filters.convert import CONVERTERS
from ippproxy.filters.errors import AnalysisError
from ippproxy.filters.model import DocumentAnalysis
from ippproxy.filters.resident import ResidentGs
from ippproxy.filters.sandbox import after_request, request_dir


def analysis_to_json(a: DocumentAnalysis) -> dict[str, Any]:
    return {"format": a.format, "pages": a.pages,
            "page_sizes": [[s.width, s.height] for s in a.page_sizes],
            "colour_pages": None if a.colour_pages is None else list(a.colour_pages),
            "methods": list(a.methods), "notes": list(a.notes), "seconds": a.seconds,
            "stages": [[name, seconds] for name, seconds in a.stages]}


def _enter(private: str | None) -> Path | None:
    """Make ``private`` the temporary directory of this request and of its gs children."""
    if private is None:
        os.environ.pop("TMPDIR", None)
        tempfile.tempdir = None
        ghostscript.PRIVATE_DIR = None
        return None
    os.environ["TMPDIR"] = private
    tempfile.tempdir = private
    ghostscript.PRIVATE_DIR = private
    return Path(private)


def drop_privileges(arg: str) -> None:
    """Become ``uid:gid`` for good (no supplementary groups); a no-op for ``-``."""
    if arg == "-":
        return
    uid, gid = (int(x) for x in arg.split(":"))
    _preload()
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    if os.geteuid() != uid or os.getegid() != gid:
        raise SystemExit("could not drop privileges")


def _preload() -> None:
    """Import now what requests import lazily: after the drop the interpreter's own
    files may be unreadable (a Python under /root)."""
    import encodings.cp1252
    import encodings.latin_1
    import encodings.utf_16  # noqa: F401

    from PIL import Image

    from ippproxy.filters import _rasterwalk  # noqa: F401
    Image.init()        # loads every image plugin


def _analyse(req: dict[str, Any], scratch: Path | None, started: float) -> DocumentAnalysis:
    colour = bool(req.get("colour", True))
    data = _inline(req["data"]) if "data" in req else None
    read = ("request", time.perf_counter() - started)   # JSON (and base64) decoding
    result = (analyse(Path(req["path"]), req["format"], colour=colour) if data is None
              else analyse_bytes(data, req["format"], colour=colour, scratch=scratch))
    return replace(result, stages=(read, *result.stages))


def _inline(text: object) -> bytes:
    try:
        return base64.b64decode(str(text), validate=True)
    except (binascii.Error, ValueError):
        raise AnalysisError("the document sent to the analysis worker is garbled") from None


def _handle(req: dict[str, Any], scratch: Path | None = None,
            started: float = 0.0) -> dict[str, Any]:
    used = resource.getrusage(resource.RUSAGE_SELF)
    spent = used.ru_utime + used.ru_stime
    budget = int(req.get("cpu_seconds", 60))
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    resource.setrlimit(resource.RLIMIT_CPU, (int(spent) + budget + 1, hard))
    ghostscript.CPU_SECONDS = budget
    if "tmp_in" in req:      # the request's private directory is here (sandbox.py)
        private = request_dir(str(req["tmp_in"]))
        try:
            return _run({**req, "tmp": private}, scratch, started)
        finally:
            after_request(private)
    return _run(req, scratch, started)


def _run(req: dict[str, Any], scratch: Path | None, started: float) -> dict[str, Any]:
    private = _enter(req.get("tmp"))
    scratch = private or scratch
    if req["op"] == "analyse":
        return {"ok": True, "result": analysis_to_json(_analyse(req, scratch, started))}
    if req["op"] == "convert":
        CONVERTERS[req["kind"]](Path(req["src"]), Path(req["dst"]), **req.get("options", {}))
        return {"ok": True, "result": None}
    if req["op"] == "ping":
        return {"ok": True, "result": os.getpid()}
    raise ValueError(f"unknown op {req['op']!r}")


# Workers (and the gs processes they start, which inherit it) run at a lower CPU priority:
# a document being counted or converted must never slow the IPP server's answers down.
# And as SCHED_BATCH (sched(7)): a worker woken by a request does not preempt the thread
# that woke it, the event loop's, which would then wait off its CPU holding the GIL.
WORKER_NICENESS = 10


def main() -> int:
    os.nice(WORKER_NICENESS)
    os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
    if len(sys.argv) > 1:         # the pool passes the memory limit in bytes
        limit = int(sys.argv[1])
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    drop_privileges(sys.argv[2] if len(sys.argv) > 2 else "-")
    if len(sys.argv) > 3:         # the worker's own directory: its resident gs may read there
        analysis.RESIDENT = ResidentGs(Path(sys.argv[3]), RENDER_DPI)
    scratch = None
    channel = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    for line in sys.stdin:
        started = time.perf_counter()
        fatal = False
        try:
            reply = _handle(json.loads(line), scratch, started)
        except AnalysisError as e:
            reply = {"ok": False, "error": type(e).__name__, "reason": e.reason}
        except MemoryError:
            reply = {"ok": False, "error": "LimitExceeded",
                     "reason": "the document needs more memory than allowed"}
            fatal = True
        except Exception as e:  # noqa: BLE001 - a worker reports, never dies silently
            reply = {"ok": False, "error": "AnalysisError",
                     "reason": f"analysis failed: {type(e).__name__}: {str(e)[:200]}"}
        reply["worker_seconds"] = time.perf_counter() - started
        channel.write(json.dumps(reply) + "\n")
        if fatal:
            return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
