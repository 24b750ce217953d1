"""Benchmark of ippproxy.filters against the plain tools; prints its figures.

Run: .venv/bin/python benchmarks/bench_filters.py [--pages 1000] [--repeat 2] [--quick]
        [--only colour]

Generates its inputs in a temp dir (filter_documents.py): a text PDF (N pages, a blue
header on page 1), a mixed PDF (N pages, one in eight colour: vector headers and colour
photos; one in eight a gray photo stored as RGB), an image PDF (N/10 full-page scans, one
in three colour), the text PDF as PostScript, PWG raster and URF (50 dpi), and measures
  * count + colour (the verdict per page, checked against the truth by construction):
    pages/s in process and through AnalysisPool (hand-off included), side by side with
    ``gs -sDEVICE=inkcov`` and a 36-dpi render (``gs -sDEVICE=ppmraw -r36``) of the same
    file; the ratio to inkcov (targets: >= 10x on the text PDF, >= 5x on the mixed PDF);
    the peak RSS of the pool's worker (VmHWM) for each file;
  * counting alone against qpdf --show-npages and pdfinfo;
  * raster walking (native C walker) against sha256 over the same file;
  * conversion time per page (grayscale PDF, PWG raster at 300 dpi);
  * peak RSS of this process and of its largest child (a gs run).
Each figure is the best of ``--repeat`` runs (the machine is shared); ratios compare
figures of the same run.
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
import filter_documents

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


def make_inputs(d: Path, pages: int, raster_too: bool = True) -> dict[str, Path]:
    pdf = d / "text.pdf"
    filter_documents.text_pdf(pdf, pages)
    mixed = d / "mixed.pdf"
    filter_documents.mixed_pdf(mixed, pages)
    image = d / "image.pdf"
    filter_documents.image_pdf(image, max(1, pages // 10))
    ps = d / "text.ps"
    filter_documents.postscript(pdf, ps)
    if not raster_too:
        return {"text": pdf, "mixed": mixed, "image": image, "ps": ps}
    pwg = d / "text.pwg"
    corpus.gs_raster(pdf, pwg, "pwgraster", "-dcupsColorSpace=19", "-dcupsBitsPerColor=8")
    urf = d / "text.urf"
    convert.pwg_to_urf(pwg, urf)
    return {"text": pdf, "mixed": mixed, "image": image, "ps": ps, "pwg": pwg, "urf": urf}


async def pooled(path: Path, fmt: str, colour: bool, repeat: int,
                 from_memory: bool = False) -> tuple[float, int]:
    """Best seconds through a one-worker pool (warmed first), and the worker's peak RSS
    in kB (VmHWM) after those runs. ``from_memory``: the bytes are sent
    (``analyse_bytes``, the server's road for a small document: its PDF renders go to the
    worker's resident gs), else the path."""
    data = path.read_bytes() if from_memory else b""
    async with AnalysisPool(1) as pool:
        async def once() -> None:
            if from_memory:
                await pool.analyse_bytes(data, fmt, colour=colour)
            else:
                await pool.analyse(path, fmt, colour=colour)
        await once()      # warm the worker
        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            await once()
            times.append(time.perf_counter() - t)
        (worker,) = pool._all
        return min(times), _hwm(worker.proc.pid)


def _hwm(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


GS = ["gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE"]
FORMATS = {"text": "application/pdf", "mixed": "application/pdf", "image": "application/pdf",
           "ps": "application/postscript"}
TARGETS = {"text": 10.0, "mixed": 5.0}


def bench_colour(kind: str, path: Path, repeat: int) -> None:
    """Count + colour of one file against inkcov and a 36-dpi render of the same file."""
    fmt, size = FORMATS[kind], path.stat().st_size
    r = analyse(path, fmt)
    assert r.pages is not None
    truth = filter_documents.truth(kind, r.pages)
    verdict = "right" if list(r.colour_pages or ()) == truth else \
        f"WRONG (expected {len(truth)} colour pages)"
    print(f"\n{kind} ({path.name}, {r.pages} pages, {size / 1e6:.2f} MB): "
          f"{len(r.colour_pages or ())} colour pages, {verdict}; {', '.join(r.methods)}")
    ours = best(lambda: analyse(path, fmt), repeat)
    row("ippproxy analyse (in process)", ours, r.pages, size)
    if r.stages:
        print("    stages: " + ", ".join(f"{name} {sec * 1000:.0f} ms" for name, sec in r.stages))
    pool, hwm = asyncio.run(pooled(path, fmt, True, repeat))
    row("ippproxy pool.analyse (worker hand-off)", pool, r.pages, size)
    memory, _ = asyncio.run(pooled(path, fmt, True, repeat, from_memory=True))
    row("ippproxy pool.analyse_bytes (from memory)", memory, r.pages, size)
    inkcov = best(tool(GS + ["-sDEVICE=inkcov", "-o", "/dev/null", str(path)]), repeat)
    row("gs -sDEVICE=inkcov", inkcov, r.pages, size)
    render = best(tool(GS + ["-sDEVICE=ppmraw", "-r36", "-o", "/dev/null", str(path)]), repeat)
    row("gs -sDEVICE=ppmraw -r36", render, r.pages, size)
    target = TARGETS.get(kind)
    goal = "" if target is None else \
        f" (target >= {target:.0f}x: {'MET' if inkcov / ours >= target else 'NOT MET'})"
    print(f"  count + colour vs inkcov: {inkcov / ours:.1f}x in process, {inkcov / pool:.1f}x "
          f"through the pool, {inkcov / memory:.1f}x from memory{goal}; "
          f"vs a 36-dpi render {render / ours:.1f}x; "
          f"worker peak RSS {hwm / 1024:.0f} MB")


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
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="100 pages, 1 repeat")
    ap.add_argument("--fallback", action="store_true",
                    help="also time the pure-Python raster walker (slow)")
    ap.add_argument("--only", choices=("colour", "all"), default="all",
                    help="colour: only the count + colour comparison with inkcov")
    a = ap.parse_args()
    pages, repeat = (100, 1) if a.quick else (a.pages, a.repeat)
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        t = time.perf_counter()
        f = make_inputs(d, pages, raster_too=a.only == "all")
        print(f"inputs (generated in {time.perf_counter() - t:.1f} s; filter_documents.py):")
        for k, p in f.items():
            print(f"  {k:<6} {p.stat().st_size / 1e6:8.2f} MB")
        print(f"\ncount + colour, best of {repeat}:")
        for kind in ("text", "mixed", "image", "ps"):
            bench_colour(kind, f[kind], repeat)
        if a.only == "colour":
            peak_rss()
            return 0
        pdf, ps, pwg, urf = f["text"], f["ps"], f["pwg"], f["urf"]
        size = pdf.stat().st_size

        print("\nPDF counting (text PDF)")
        row("ippproxy analyse (in process)",
            best(lambda: analyse(pdf, "application/pdf", colour=False), repeat), pages, size)
        row("ippproxy pool.analyse (worker hand-off)",
            asyncio.run(pooled(pdf, "application/pdf", False, repeat))[0], pages, size)
        row("qpdf --show-npages", best(tool(["qpdf", "--show-npages", str(pdf)]), repeat),
            pages, size)
        row("pdfinfo", best(tool(["pdfinfo", str(pdf)]), repeat), pages, size)
        row("PostScript, ippproxy analyse, count only",
            best(lambda: analyse(ps, "application/postscript", colour=False), repeat),
            pages, ps.stat().st_size)

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

        peak_rss()
    return 0


def peak_rss() -> None:
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"\npeak RSS: this process (in-process analyses) {me:.0f} MB, largest child "
          f"(a gs run: ours or inkcov's) {kids:.0f} MB")


if __name__ == "__main__":
    sys.exit(main())
