"""Running the ``gs`` program: argv lists, never a shell, always ``-dSAFER``.

Ghostscript runs as a child of an analysis worker, so it inherits the
worker's RLIMIT_CPU and RLIMIT_AS (pool.py); the wall-clock limit is the
``timeout`` here (the child is killed).  ``PRIVATE_DIR`` (set by the worker per
request, sandbox.py) is gs's temporary directory and the only path it may read,
write or control besides its input and output files, which gs permits itself.  Errors are reduced to one clear line
(``/invalidfileaccess in --file--``) for ``job-state-message``.
"""

from __future__ import annotations

import os
import re
import resource
import subprocess
import tempfile
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO

from ippproxy.filters.errors import FormatError, LimitExceeded

GS = os.environ.get("IPPPROXY_GS", "gs")
BASE_ARGS = ("-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-dNOINTERPOLATE", "-sstdout=%stderr")
DEFAULT_TIMEOUT = 120.0
# The render's device options (render_pages and resident.py): fast colour conversion,
# no anti-aliasing (see render_pages).
RENDER_ARGS = ("-dUseFastColor", "-dTextAlphaBits=1", "-dGraphicsAlphaBits=1")
# CPU seconds each gs child may use (RLIMIT_CPU); the worker sets it per request.
CPU_SECONDS = 60
# The request's private directory (the worker sets it and TMPDIR per request).
PRIVATE_DIR: str | None = None


def _child_limits() -> None:
    # preexec_fn is safe here: gs is started from the single-threaded worker process.
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS + 1))
_ERROR = re.compile(r"Error: (/\w+ in \S+)|(Unrecoverable error[^\n]*)|(\*\*\*\*[^\n]*)")


def argv(device: str, *args: str) -> list[str]:
    permits = [] if PRIVATE_DIR is None else [
        f"--permit-file-{kind}={PRIVATE_DIR.rstrip('/')}/" for kind in ("read", "write",
                                                                        "control")]
    return [GS, *BASE_ARGS, *permits, f"-sDEVICE={device}", *args]


def _reason(stderr: str) -> str:
    for m in _ERROR.finditer(stderr):
        return next(g for g in m.groups() if g).strip()
    last = [line for line in stderr.splitlines() if line.strip()]
    return last[-1][:200] if last else "Ghostscript failed"


def run(args: Sequence[str], *, timeout: float = DEFAULT_TIMEOUT,
        stdin: int | None = subprocess.DEVNULL) -> subprocess.CompletedProcess[bytes]:
    """Run gs with ``args`` (a full argv from ``argv()``); raise on failure or timeout."""
    assert args[0] == GS and "-dSAFER" in args
    try:
        proc = subprocess.run(list(args), stdin=stdin, capture_output=True, timeout=timeout,
                              check=False, preexec_fn=_child_limits)
    except subprocess.TimeoutExpired:
        raise LimitExceeded(f"Ghostscript did not finish within {timeout:g} s") from None
    if proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace")
        if proc.returncode < 0:
            raise LimitExceeded(f"Ghostscript was killed by signal {-proc.returncode} "
                                "(resource limit)")
        raise FormatError(f"Ghostscript error: {_reason(err)}")
    return proc


def render_pages(path: Path, *, dpi: int, page_list: Sequence[int] | None = None,
                 timeout: float = DEFAULT_TIMEOUT,
                 prologue: Sequence[str] = (),
                 stderr_sink: list[bytes] | None = None) -> Iterator[tuple[int, int, bytes]]:
    """Render pages to 8-bit RGB at ``dpi``, yielding (width, height, pixels) one at a time.

    Pages stream through a pipe, so memory holds one page whatever the document size.
    ``-dUseFastColor`` converts DeviceGray/RGB/CMYK with the textbook formulas, so K-only
    CMYK and R=G=B stay exactly neutral; anti-aliasing stays off so that a mark smaller
    than a pixel still sets a pixel at its full colour ("any part of pixel" fill rule).
    When the run ends, gs's stderr is appended to ``stderr_sink``.
    """
    args = argv("ppmraw", f"-r{dpi}", *RENDER_ARGS, "-sOutputFile=%stdout")
    if page_list:
        args.append("-sPageList=" + ",".join(str(p) for p in page_list))
    args += [*prologue, "-f", str(path)]
    with tempfile.TemporaryFile() as err, subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err,
            preexec_fn=_child_limits) as proc:  # noqa: PLW1509
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            assert proc.stdout is not None
            yield from ppm_stream(proc.stdout)
            rc = proc.wait()
        finally:
            timer.cancel()
            if proc.poll() is None:
                proc.kill()
        err.seek(0)
        if stderr_sink is not None:
            stderr_sink.append(err.read())
            err.seek(0)
        if rc != 0:
            if rc < 0:
                raise LimitExceeded("Ghostscript was killed (time or resource limit)")
            raise FormatError("Ghostscript error: " + _reason(err.read().decode("utf-8", "replace")))


def ppm_stream(f: IO[bytes]) -> Iterator[tuple[int, int, bytes]]:
    """Split a stream of concatenated binary PPM images as gs writes them (one field a line)."""
    while True:
        magic = f.readline(16)
        if not magic:
            return
        line = f.readline(128)
        while line.startswith(b"#"):
            line = f.readline(128)
        dims, maxval = line.split(), f.readline(16).strip()
        if magic.strip() != b"P6" or len(dims) != 2 or maxval != b"255":
            raise FormatError("unexpected output from the Ghostscript renderer")
        w, h = int(dims[0]), int(dims[1])
        pixels = f.read(w * h * 3)
        if len(pixels) != w * h * 3:
            return   # gs died mid-page: its return code tells why
        yield w, h, pixels
