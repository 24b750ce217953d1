"""Benchmark of ippproxy.filters against the plain tools; prints its figures.

Run: .venv/bin/python benchmarks/bench_filters.py [--pages 1000] [--quick]

Generates its inputs in a temp dir: a text-heavy PDF (N pages, a blue header
on page 1), the same as PostScript, PWG raster and URF (50 dpi), and measures
  * counting: pages/s and MB/s, in-process and through AnalysisPool (hand-off
    included), against qpdf --show-npages and pdfinfo;
  * colour: pages/s against gs -sDEVICE=inkcov and gs -sDEVICE=ppmraw -r72;
  * raster walking (native C walker) against sha256 over the same file;
  * conversion time per page (grayscale PDF, PWG raster at 300 dpi);
  * peak RSS of the worker (ru_maxrss of children) and of this process.
Each figure is the best of ``--repeat`` runs (the machine is shared).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "filters")]

import corpus

from ippproxy.filters import convert, raster, raster_walk
from ippproxy.filters.analysis import analyse
from ippproxy.filters.pool import AnalysisPool


def best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def tool(args: list[str]) -> Callable[[], object]:
    return lambda: subprocess.run(args, check=True, capture_output=True)


def row(label: str, seconds: float, pages: int, size: int) -> None:
    print(f"  {label:<44} {seconds * 1000:9.1f} ms {pages / seconds:10.0f} pages/s "
          f"{size / seconds / 1e6:9.1f} MB/s")


def make_inputs(d: Path, pages: int) -> dict[str, Path]:
    header = b"0 0 0.8 rg BT /F1 18 Tf 50 760 Td (Quarterly report) Tj ET\n"
    pdf = d / "text.pdf"
    corpus.write_pdf(pdf, [header + corpus.text_stream(y0=720)] +
                     [corpus.text_stream()] * (pages - 1))
    ps = d / "text.ps"
    subprocess.run(["gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=ps2write",
                    f"-sOutputFile={ps}", str(pdf)], check=True)
    pwg = d / "text.pwg"
    corpus.gs_raster(pdf, pwg, "pwgraster", "-dcupsColorSpace=19", "-dcupsBitsPerColor=8")
    urf = d / "text.urf"
    convert.pwg_to_urf(pwg, urf)
    return {"pdf": pdf, "ps": ps, "pwg": pwg, "urf": urf}


async def pooled(path: Path, fmt: str, colour: bool, repeat: int) -> float:
    async with AnalysisPool(1) as pool:
        await pool.analyse(path, fmt, colour=colour)      # warm the worker
        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            await pool.analyse(path, fmt, colour=colour)
            times.append(time.perf_counter() - t)
        return min(times)


def sha256_file(path: Path) -> None:
    with open(path, "rb") as f:
        hashlib.file_digest(f, "sha256")


def bench_raster(name: str, path: Path, fmt: str, pages: int, repeat: int,
                 fallback: bool) -> None:
    """Counting (and colour) against sha256 over the same file; target: >= 0.5x sha256."""
    n = path.stat().st_size
    impl = "native _rasterwalk" if raster_walk.NATIVE else "pure-Python fallback"
    print(f"\n{name} ({n / 1e6:.1f} MB; walker: {impl})")
    data = path.read_bytes()
    sha = best(lambda: hashlib.sha256(data).digest(), repeat)
    row("sha256 (bytes in memory)", sha, pages, n)
    row("sha256 (hashlib.file_digest)", best(lambda: sha256_file(path), repeat), pages, n)
    count = best(lambda: raster.walk_file(path, fmt), repeat)
    row("walk_file (count)", count, pages, n)
    colour = best(lambda: raster.walk_file(path, fmt, colour=True), repeat)
    row("walk_file (count + colour)", colour, pages, n)
    print(f"  speed vs sha256 in memory: count {sha / count:.2f}x, "
          f"count + colour {sha / colour:.2f}x (target >= 0.50x)")
    if fallback:
        native, raster_walk.NATIVE = raster_walk.NATIVE, False
        try:
            row("walk_file, pure-Python fallback (count)",
                best(lambda: raster.walk_file(path, fmt), 1), pages, n)
        finally:
            raster_walk.NATIVE = native


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="100 pages, 1 repeat")
    ap.add_argument("--fallback", action="store_true",
                    help="also time the pure-Python raster walker (slow)")
    a = ap.parse_args()
    pages, repeat = (100, 1) if a.quick else (a.pages, a.repeat)
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        t = time.perf_counter()
        f = make_inputs(d, pages)
        print(f"inputs: {pages}-page text PDF, blue header on page 1 "
              f"(generated in {time.perf_counter() - t:.1f} s)")
        for k, p in f.items():
            print(f"  {k:<4} {p.stat().st_size / 1e6:8.2f} MB")
        pdf, ps, pwg, urf = f["pdf"], f["ps"], f["pwg"], f["urf"]
        size = pdf.stat().st_size

        print("\nPDF counting")
        row("ippproxy analyse (in process)",
            best(lambda: analyse(pdf, "application/pdf", colour=False), repeat), pages, size)
        row("ippproxy pool.analyse (worker hand-off)",
            asyncio.run(pooled(pdf, "application/pdf", False, repeat)), pages, size)
        row("qpdf --show-npages", best(tool(["qpdf", "--show-npages", str(pdf)]), repeat),
            pages, size)
        row("pdfinfo", best(tool(["pdfinfo", str(pdf)]), repeat), pages, size)

        print("\nPDF colour (verdict per page)")
        r = analyse(pdf, "application/pdf")
        print(f"  ippproxy verdict: colour pages {list(r.colour_pages or ())}, {r.methods}")
        row("ippproxy analyse (content scan + render)",
            best(lambda: analyse(pdf, "application/pdf"), repeat), pages, size)
        row("ippproxy pool.analyse", asyncio.run(pooled(pdf, "application/pdf", True, repeat)),
            pages, size)
        gs = ["gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE"]
        reps = max(1, repeat - 2)
        row("gs -sDEVICE=inkcov", best(tool(gs + ["-sDEVICE=inkcov", "-o", "-", str(pdf)]), reps),
            pages, size)
        row("gs -sDEVICE=ppmraw -r72", best(tool(gs + ["-sDEVICE=ppmraw", "-r72", "-o",
                                                        "/dev/null", str(pdf)]), reps),
            pages, size)

        print("\nPostScript (count + colour: one gs render)")
        ps_size = ps.stat().st_size
        row("ippproxy analyse, count only",
            best(lambda: analyse(ps, "application/postscript", colour=False), reps),
            pages, ps_size)
        row("ippproxy analyse, colour",
            best(lambda: analyse(ps, "application/postscript"), reps), pages, ps_size)
        row("gs -sDEVICE=inkcov", best(tool(gs + ["-sDEVICE=inkcov", "-o", "-", str(ps)]), reps),
            pages, ps_size)

        for name, path, fmt in (("PWG raster", pwg, "image/pwg-raster"),
                                ("URF", urf, "image/urf")):
            bench_raster(name, path, fmt, pages, repeat, a.fallback)

        print("\nConversions (time per page)")
        sample = d / "sample.pdf"
        corpus.write_pdf(sample, [corpus.text_stream()] * 20)
        for label, fn in (
                ("grayscale PDF (pdfwrite + verify)",
                 lambda: convert.to_grayscale_pdf(pdf, d / "g.pdf")),
                ("PWG raster 300 dpi (20 pages)",
                 lambda: convert.to_pwg_raster(sample, d / "s.pwg", dpi=300)),
                ("URF 300 dpi (20 pages)", lambda: convert.to_urf(sample, d / "s.urf", dpi=300)),
                ("PS to PDF", lambda: convert.ps_to_pdf(ps, d / "p.pdf"))):
            n = 20 if "20 pages" in label else pages
            s = best(fn, 1)
            print(f"  {label:<44} {s * 1000 / n:9.2f} ms/page")

        me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"\npeak RSS: this process {me:.0f} MB, largest child (worker or gs) {kids:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
