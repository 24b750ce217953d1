"""Running CUPS's ipptool conformance suites (/usr/share/cups/ipptool) from the tests.

What the suites need, reproduced here (the project's tests do not call ../shared/tools):
* documents in ipptool's working directory: ``testfile.pdf`` ($filename), the A4/Letter PDF
  and PostScript documents and the JPEG photos some tests name (generated with gs);
* suites that INCLUDE a lower level run with the INCLUDE removed, so each test is counted
  once; a ``FILE x`` guarded by ``SKIP-IF-MISSING x`` is dropped when x is absent (ipptool
  2.4 refuses to load the file otherwise; the test itself still reports [SKIP]);
* get-job-attributes.test targets a job URI, cancel-current-job.test a held job: helper
  requests made with the codec prepare both.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

SUITES_DIR = Path("/usr/share/cups/ipptool")
USER = "ippeval"
_RESULT = re.compile(r"^\s*(.*?)\s+\[(PASS|FAIL|SKIP)\]\s*$")


@dataclass
class SuiteResult:
    suite: str
    passed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    defined: int = 0
    output: str = ""

    @property
    def not_run(self) -> int:
        return max(0, self.defined - len(self.passed) - len(self.failed) - len(self.skipped))

    @property
    def ok(self) -> bool:
        return not self.failed and self.not_run == 0

    def summary(self) -> str:
        return (f"{self.suite}: {len(self.passed)} passed, {len(self.failed)} failed "
                f"{self.failed}, {self.not_run} not run")


def _ps(pages: int, width: int, height: int) -> str:
    body = "\n".join(
        f"1 0 0 setrgbcolor 72 72 100 100 rectfill 0 0 1 setrgbcolor 192 72 100 100 rectfill\n"
        f"0 setgray 72 {height - 100} moveto (ippproxy test page {p} of {pages}) show showpage"
        for p in range(1, pages + 1))
    return (f"%!PS-Adobe-3.0\n%%Pages: {pages}\n%%BoundingBox: 0 0 {width} {height}\n"
            f"%%EndComments\n<< /PageSize [{width} {height}] >> setpagedevice\n"
            f"/Helvetica findfont 14 scalefont setfont\n{body}\n%%EOF\n")


def make_documents(out: Path) -> Path:
    """The documents the suites name; returns the default document (testfile.pdf)."""
    out.mkdir(parents=True, exist_ok=True)
    gs = ["gs", "-q", "-dNOPAUSE", "-dBATCH", "-dSAFER"]
    for name, (w, h) in {"a4": (595, 842), "letter": (612, 792)}.items():
        (out / f"document-{name}.ps").write_text(_ps(4, w, h))
        (out / f"onepage-{name}.ps").write_text(_ps(1, w, h))
        for src in (f"document-{name}", f"onepage-{name}"):
            subprocess.run([*gs, "-sDEVICE=pdfwrite", f"-sOutputFile={out / src}.pdf",
                            str(out / f"{src}.ps")], check=True, timeout=60)
    for device, name in (("jpeg", "color.jpg"), ("jpeggray", "gray.jpg")):
        subprocess.run([*gs, f"-sDEVICE={device}", "-r50", "-dDEVICEWIDTHPOINTS=432",
                        "-dDEVICEHEIGHTPOINTS=288", "-dFIXEDMEDIA",
                        f"-sOutputFile={out / name}", str(out / "onepage-letter.ps")],
                       check=True, timeout=60)
    shutil.copy(out / "onepage-a4.pdf", out / "testfile.pdf")
    _pwg_samples(out, gs)
    return out / "testfile.pdf"


# PWG raster samples ipp-everywhere.test prints (gs pwgraster device): only the color.jpg
# 4x6 photo page, at the resolution and in the types ippeveprinter advertises (300 dpi; black_1 and
# sgray_8), which keeps the run short. cupsColorSpace: 3=K 18=sGray.
PWG_TYPES = {"black-1": (3, 1), "sgray-8": (18, 8)}


def _pwg_samples(out: Path, gs: list[str], res: int = 300) -> None:
    photo = out / "photo-4x6.ps"
    photo.write_text(_ps(1, 288, 432))
    for kind, (space, bits) in PWG_TYPES.items():
        d = out / f"pwg-raster-samples-{res}dpi" / kind
        d.mkdir(parents=True, exist_ok=True)
        for name in ("color.jpg-4x6",):
            subprocess.run([*gs, "-sDEVICE=pwgraster", f"-r{res}", f"-dcupsColorSpace={space}",
                            f"-dcupsBitsPerColor={bits}",
                            f"-sOutputFile={d / f'{name}-{kind}-{res}dpi.pwg'}", str(photo)],
                           check=True, timeout=60, capture_output=True)


def prepare(suite: str, workdir: Path) -> Path:
    """A copy of ``suite`` without INCLUDE lines and without FILEs that are missing."""
    out: list[str] = []
    block: list[str] | None = None
    missing: set[str] = set()
    for line in (SUITES_DIR / suite).read_text(encoding="utf-8").splitlines(keepends=True):
        if re.match(r"^INCLUDE\s", line):
            continue
        st = line.strip()
        if block is None and st.startswith("{"):
            block, missing = [line], set()
            continue
        if block is not None:
            block.append(line)
            m = re.match(r'SKIP-IF-MISSING\s+"?([^"\s]+)"?', st)
            if m and not (workdir / m.group(1)).exists():
                missing.add(m.group(1))
            if st.startswith("}"):
                for b in block:
                    fm = re.match(r'\s*FILE\s+"?([^"\s]+)"?', b)
                    if not (fm and fm.group(1) in missing):
                        out.append(b)
                block = None
            continue
        out.append(line)
    path = workdir / suite
    path.write_text("".join(out), encoding="utf-8")
    return path


def details(output: str, test: str) -> list[str]:
    """The lines ipptool printed under ``test``'s result line (what it expected, got)."""
    out: list[str] = []
    inside = False
    for line in output.splitlines():
        m = _RESULT.match(line)
        if m:
            inside = m.group(1) == test
            continue
        if inside and line.startswith("        "):
            out.append(line.strip())
        elif inside and line.strip():
            inside = False
    return out


async def run(suite_path: Path, uri: str, workdir: Path, document: Path,
              defines: dict[str, str] | None = None, timeout: float = 300.0,
              version: str = "2.0") -> SuiteResult:
    argv = ["ipptool", "-t", "-I", "-V", version, "-T", "30", "-R", "-f", str(document)]
    for k, v in (defines or {}).items():
        argv += ["-d", f"{k}={v}"]
    argv += [uri, str(suite_path)]
    proc = await asyncio.create_subprocess_exec(
        *argv, cwd=workdir, env=dict(os.environ, CUPS_USER=USER),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        async with asyncio.timeout(timeout):
            raw, _ = await proc.communicate()
    except TimeoutError:
        proc.kill()
        raw, _ = await proc.communicate()
    text = raw.decode("utf-8", "replace")
    result = SuiteResult(suite_path.name, output=text)
    result.defined = len(re.findall(r'^\s*NAME\s+"', suite_path.read_text(), re.MULTILINE))
    for line in text.splitlines():
        m = _RESULT.match(line)
        if m:
            {"PASS": result.passed, "FAIL": result.failed, "SKIP": result.skipped}[
                m.group(2)].append(m.group(1))
    return result
