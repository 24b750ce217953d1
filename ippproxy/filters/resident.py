"""``ResidentGs``: one Ghostscript per analysis worker, kept running between requests.

Theory of operation
-------------------
Starting ``gs`` costs more than rendering a page or two of a PDF at ``colour.RENDER_DPI``,
and at intake most documents that need a render are one page.  So a worker keeps one gs
in its interactive executive (no file operand, ``-dNOPROMPT``: it reads PostScript from
its stdin line by line) and sends it one line per document:

    save mark { << /OutputFile (<request dir>/render.ppm) >> setpagedevice
                (<file>) (r) file runpdfbegin N pdfgetpage pdfshowpage ... runpdfend }
    stopped { (FAIL-<nonce>) } { (DONE-<nonce>) } ifelse
    << /OutputFile (<home>/idle.ppm) >> setpagedevice     % closes render.ppm
    (%stderr) (w) file dup 3 -1 roll writestring flushfile cleartomark restore

then reads gs's stderr up to the marker and the pages from ``render.ppm``.  The nonce is
fresh per document, so text a document makes gs print cannot end a job early.  The
device and its options are those of a fresh render (ghostscript.RENDER_ARGS), so a page
renders to the same pixels either way (tests/filters/test_resident.py).

Confinement is the fresh gs's: ``-dSAFER``, never a shell, and the only permitted path
is the worker's own directory (``home``, sandbox.py), which is also gs's ``TMPDIR``; the
request's private directory (where the document and the render go) is inside it and is
removed when the request ends, so a later document cannot find an earlier one's files.
Only PDFs go this way: the PDF interpreter runs no PostScript from the document, so
nothing a document does can outlive its ``save``/``restore``; PostScript jobs, which
could, always get a fresh gs (postscript.py).  Limits: RLIMIT_AS is the worker's
(inherited); RLIMIT_CPU is moved per document to the CPU time gs has used plus the
request's budget (``prlimit``); the wall-clock limit kills it.  gs is started again
after ``JOBS_PER_PROCESS`` documents (memory it may have kept) and after any failure;
a failure raises ``Unavailable`` and the caller renders with a fresh gs instead,
which gives the exact error (or succeeds), except for a time limit, which is final.
"""

from __future__ import annotations

import contextlib
import os
import re
import resource
import secrets
import select
import subprocess
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from ippproxy.filters import ghostscript
from ippproxy.filters.errors import LimitExceeded

JOBS_PER_PROCESS = 100
# Paths we put in a PostScript string literal: ours (sandbox.py), so plain; anything
# else goes to a fresh gs.
_PLAIN_PATH = re.compile(r"/[A-Za-z0-9_./-]+")
_MAX_LOG = 1 << 20


class Unavailable(Exception):
    """The resident gs could not render this document: render it with a fresh gs."""


class ResidentGs:
    def __init__(self, home: Path, dpi: int) -> None:
        self.home = Path(home)
        self.dpi = dpi
        self._proc: subprocess.Popen[bytes] | None = None
        self._jobs = 0
        self.started = 0          # gs processes started (for tests)

    def can_read(self, path: Path) -> bool:
        """``path`` is inside ``home`` and plain enough to be written in a PostScript string."""
        text = str(path)
        return (path.parent.parent == self.home and _PLAIN_PATH.fullmatch(text) is not None)

    @property
    def pid(self) -> int | None:
        return None if self._proc is None or self._proc.poll() is not None else self._proc.pid

    def _start(self) -> subprocess.Popen[bytes]:
        home = str(self.home).rstrip("/") + "/"
        args = [ghostscript.GS, "-q", "-dSAFER", "-dNOPAUSE", "-dNOPROMPT", "-dNOINTERPOLATE",
                "-sstdout=%stderr", *(f"--permit-file-{kind}={home}"
                                      for kind in ("read", "write", "control")),
                # -dPrinted: annotations as printed (render_fallback.PRINTED), as a fresh gs.
                "-sDEVICE=ppmraw", f"-r{self.dpi}", *ghostscript.RENDER_ARGS, "-dPrinted",
                f"-sOutputFile={home}idle.ppm"]
        env = {**os.environ, "TMPDIR": str(self.home)}
        proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, env=env)
        self.started += 1
        self._jobs = 0
        return proc

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            with contextlib.suppress(OSError):
                proc.kill()
            proc.wait()
            for pipe in (proc.stdin, proc.stderr):
                if pipe is not None:
                    with contextlib.suppress(OSError):
                        pipe.close()

    def render(self, path: Path, pages: Sequence[int], out_dir: Path, *,
               dpi: int | None = None, timeout: float = ghostscript.DEFAULT_TIMEOUT,
               cpu_seconds: int | None = None) -> Iterator[tuple[int, int, bytes]]:
        """The ``pages`` (1-based) of the PDF ``path`` as (width, height, 8-bit RGB), in order.

        Raises ``Unavailable`` (render it with a fresh gs) or ``LimitExceeded`` (time)."""
        if not pages or not self.can_read(path) or not self.can_read(out_dir / "render.ppm"):
            raise Unavailable("not a document for the resident Ghostscript")
        if self._proc is None or self._proc.poll() is not None or self._jobs >= JOBS_PER_PROCESS:
            self.close()
            self._proc = self._start()
        proc = self._proc
        self._jobs += 1
        out, nonce = out_dir / "render.ppm", secrets.token_hex(8)
        shows = " ".join(f"{int(n)} pdfgetpage pdfshowpage" for n in pages)
        res, idle = int(dpi or self.dpi), int(self.dpi)
        line = (f"save mark {{ << /OutputFile ({out}) /HWResolution [{res} {res}] >> "
                f"setpagedevice ({path}) (r) file "
                f"runpdfbegin {shows} runpdfend }} stopped {{ (FAIL-{nonce}\\n) }} "
                f"{{ (DONE-{nonce}\\n) }} ifelse << /OutputFile ({self.home}/idle.ppm) "
                f"/HWResolution [{idle} {idle}] >> "
                f"setpagedevice (%stderr) (w) file dup 3 -1 roll writestring flushfile "
                f"cleartomark restore\n")
        try:
            self._limit_cpu(proc, cpu_seconds if cpu_seconds is not None
                            else ghostscript.CPU_SECONDS)
            assert proc.stdin is not None
            proc.stdin.write(line.encode("ascii"))
            proc.stdin.flush()
            done = self._wait(proc, nonce, timeout)
        except (OSError, ValueError):
            self.close()
            raise Unavailable("the resident Ghostscript ended") from None
        if not done:
            self.close()
            raise Unavailable("the resident Ghostscript failed on this document")
        try:
            with open(out, "rb") as f:
                yield from ghostscript.ppm_stream(f)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(out)

    def _wait(self, proc: subprocess.Popen[bytes], nonce: str, timeout: float) -> bool:
        """Read gs's stderr up to the job's marker: True when it rendered, False when the
        job failed or gs ended; kills gs and raises LimitExceeded after ``timeout``."""
        assert proc.stderr is not None
        fd, log, deadline = proc.stderr.fileno(), b"", time.monotonic() + timeout
        done, fail = f"DONE-{nonce}\n".encode(), f"FAIL-{nonce}\n".encode()
        while True:
            if done in log:
                return True
            if fail in log:
                return False
            left = deadline - time.monotonic()
            if left <= 0:
                self.close()
                raise LimitExceeded(f"Ghostscript did not finish within {timeout:g} s")
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    return False
                log = (log + chunk)[-_MAX_LOG:]

    @staticmethod
    def _limit_cpu(proc: subprocess.Popen[bytes], budget: int) -> None:
        """Soft RLIMIT_CPU of gs: the CPU time it has used so far plus ``budget``."""
        fields = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        used = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        _, hard = resource.prlimit(proc.pid, resource.RLIMIT_CPU)
        soft = int(used) + budget + 1
        if hard != resource.RLIM_INFINITY:
            soft = min(soft, hard)
        resource.prlimit(proc.pid, resource.RLIMIT_CPU, (soft, hard))
