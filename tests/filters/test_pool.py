"""Hostile and broken documents fail alone, with a clear reason; the pool survives."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import struct
import sys
import zlib
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import corpus
import pikepdf
import pytest

from ippproxy.filters import pool as pool_module
from ippproxy.filters.errors import AnalysisError, FormatError, LimitExceeded, PoolFull
from ippproxy.filters.model import STAGES
from ippproxy.filters.pool import MAX_INLINE_BYTES, AnalysisPool
from ippproxy.filters.sandbox import REQUEST_DIR


async def _still_works(pool: AnalysisPool, cases: dict[str, corpus.Case]) -> None:
    case = cases["blue-header-1-of-21"]
    a = await pool.analyse(case.path, case.format)
    assert (a.pages, a.colour_pages) == (21, (1,))


async def test_analyse_and_convert_through_pool(pool: AnalysisPool, cases: dict[str, corpus.Case],
                                                tmp_path: Path) -> None:
    await _still_works(pool, cases)
    out = tmp_path / "gray.pdf"
    await pool.convert("grayscale-pdf", cases["blue-header-1-of-21"].path, out)
    a = await pool.analyse(out, "application/pdf")
    assert (a.pages, a.colour_pages) == (21, ())


async def test_postscript_pipe(pool: AnalysisPool, cases: dict[str, corpus.Case],
                               tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    ps = tmp_path / "pipe.ps"
    ps.write_bytes(b"%!PS\n(%pipe%touch " + str(marker).encode() + b") (w) file closefile\n"
                   b"showpage\n")
    with pytest.raises(FormatError, match="invalidfileaccess"):
        await pool.analyse(ps, "application/postscript")
    assert not marker.exists()
    await _still_works(pool, cases)


async def test_endless_loop_hits_cpu_limit(pool: AnalysisPool, cases: dict[str, corpus.Case],
                                           tmp_path: Path) -> None:
    ps = tmp_path / "loop.ps"
    ps.write_bytes(b"%!PS\n{ 1 pop } loop\n")
    other = asyncio.ensure_future(_still_works(pool, cases))     # runs beside it, unaffected
    with pytest.raises(LimitExceeded, match="killed|CPU|longer"):
        await pool.analyse(ps, "application/postscript")
    await other
    await _still_works(pool, cases)


async def test_wall_clock_limit_replaces_worker(cases: dict[str, corpus.Case],
                                                tmp_path: Path) -> None:
    ps = tmp_path / "sleepy.ps"
    ps.write_bytes(b"%!PS\n{ 1 pop } loop\n")
    async with AnalysisPool(1, cpu_seconds=60, wall_seconds=60) as pool:
        with pytest.raises(LimitExceeded, match="longer than 1 s"):
            await pool.analyse(ps, "application/postscript", timeout=1.0)
        assert pool.replaced == 1
        await _still_works(pool, cases)


def _flate_bomb(path: Path, mbytes: int) -> None:
    comp = zlib.compressobj(9)
    chunk = b"\0" * (1 << 20)
    data = b"".join(comp.compress(chunk) for _ in range(mbytes)) + comp.flush()
    pdf = pikepdf.new()
    stream = pikepdf.Stream(pdf, b"")
    stream.write(data, filter=pikepdf.Name.FlateDecode)
    page = pikepdf.Dictionary(Type=pikepdf.Name.Page, MediaBox=[0, 0, 612, 792],
                              Contents=stream)
    pdf.pages.append(pikepdf.Page(page))
    pdf.save(path)


async def test_decompression_bomb(cases: dict[str, corpus.Case], tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.pdf"
    _flate_bomb(bomb, 1024)          # 1 GiB of content stream in about 1 MB
    assert bomb.stat().st_size < 2 << 20
    async with AnalysisPool(1, memory_bytes=768 << 20, cpu_seconds=20, wall_seconds=60) as pool:
        with pytest.raises(AnalysisError, match="memory|Ghostscript|killed"):
            await pool.analyse(bomb, "application/pdf")
        await _still_works(pool, cases)


async def test_png_bomb(pool: AnalysisPool, tmp_path: Path) -> None:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))
    ihdr = struct.pack(">IIBBBBB", 40000, 40000, 8, 2, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 4096)) \
        + chunk(b"IEND", b"")
    (tmp_path / "bomb.png").write_bytes(png)
    with pytest.raises(FormatError, match="too large|refused"):
        await pool.analyse(tmp_path / "bomb.png", "image/png")


async def test_million_page_claim(pool: AnalysisPool, tmp_path: Path) -> None:
    """A /Count that lies is noted, not trusted: the one real page is counted (issue 19)."""
    path = tmp_path / "million.pdf"
    corpus.write_pdf(path, [corpus.text_stream(lines=1)])
    data = path.read_bytes()
    path.write_bytes(data.replace(b"/Count 1 ", b"/Count 1000000 "))
    result = await pool.analyse(path, "application/pdf")
    assert result.pages == 1
    assert any("/Count says 1000000" in n for n in result.notes)


async def test_truncated_raster(pool: AnalysisPool, cases: dict[str, corpus.Case],
                                tmp_path: Path) -> None:
    for name in ("blue-header-1-of-21-pwg", "blue-header-1-of-21-urf"):
        case = cases[name]
        data = case.path.read_bytes()
        cut = tmp_path / case.path.name
        cut.write_bytes(data[: len(data) - 100])
        with pytest.raises(FormatError, match="ends inside|truncated") as e:
            await pool.analyse(cut, case.format)
        assert e.value.reason
    await _still_works(pool, cases)


async def _until(condition: Callable[[], bool], seconds: float = 30) -> None:
    for _ in range(int(seconds * 100)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the pool never got there")


async def test_queue_full(cases: dict[str, corpus.Case], tmp_path: Path) -> None:
    ps = tmp_path / "loop.ps"
    ps.write_bytes(b"%!PS\n{ 1 pop } loop\n")
    async with AnalysisPool(1, queue_size=1, cpu_seconds=2, wall_seconds=30) as pool:
        assert pool.busy == 0
        busy = asyncio.ensure_future(pool.analyse(ps, "application/postscript"))
        # each caller stages its document in a thread before it asks for a worker
        await _until(lambda: pool.busy == 1)
        waiting = asyncio.ensure_future(_still_works(pool, cases))
        await _until(lambda: pool.waiting == 1)
        with pytest.raises(PoolFull) as e:
            await pool.analyse(cases["black-text-rgb"].path, "application/pdf")
        assert e.value.status == "server-error-busy"
        with pytest.raises(LimitExceeded):
            await busy
        await waiting



async def test_workers_run_at_lower_priority() -> None:
    """Counting and conversion must not compete with the IPP server on equal terms."""
    from ippproxy.filters.worker import WORKER_NICENESS

    async with AnalysisPool(workers=1) as pool:
        pid = await pool.ping()
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        assert int(fields[16]) >= os.nice(0) + WORKER_NICENESS  # field 19 of proc(5): nice
        # SCHED_BATCH: a worker woken by a request does not preempt the event loop's
        # thread on its CPU (which then holds the GIL while descheduled)
        assert os.sched_getscheduler(pid) == os.SCHED_BATCH


async def test_analyse_bytes_equals_analyse(pool: AnalysisPool,
                                            cases: dict[str, corpus.Case]) -> None:
    """A document sent from memory is analysed exactly as its file: a PDF proved gray by
    the content scan, one whose colour page Ghostscript renders (a file in the pool's
    scratch directory, removed afterwards), and a PostScript document (a file too)."""
    for name in ("black-text-rgb", "blue-header-1-of-21", "ps-a4"):
        case = cases[name]
        from_file = await pool.analyse(case.path, case.format)
        from_memory = await pool.analyse_bytes(case.path.read_bytes(), case.format)
        assert replace(from_memory, seconds=0) == replace(from_file, seconds=0), name
        assert (from_memory.pages, from_memory.colour_pages) == (case.pages, case.colour_pages)
    assert pool._scratch is not None    # only the workers' own directories, and in them
    assert sorted(pool._scratch.root.iterdir()) == sorted(w.home for w in pool._all)
    for w in pool._all:                 # nothing but their request directory, empty
        assert [p.name for p in w.home.iterdir()] in ([], [REQUEST_DIR])
        assert not any(any(p.iterdir()) for p in w.home.iterdir())


async def test_pdf_from_memory_writes_no_file(pool: AnalysisPool,
                                             cases: dict[str, corpus.Case]) -> None:
    """qpdf opens the bytes: only a page that must be rendered costs a file ("write")."""
    gray = await pool.analyse_bytes(cases["black-text-rgb"].path.read_bytes(), "application/pdf")
    assert [s for s, _ in gray.stages] == ["queue", "ipc", "request", "open", "count", "scan"]
    assert "gs-render" not in " ".join(gray.methods)
    colour = await pool.analyse_bytes(cases["blue-header-1-of-21"].path.read_bytes(),
                                      "application/pdf")
    assert [s for s, _ in colour.stages] == ["queue", "ipc", "request", "open", "count",
                                             "scan", "write", "render"]


async def test_stage_timings(pool: AnalysisPool, cases: dict[str, corpus.Case]) -> None:
    """Every analysis says where its time went: the worker's stages fit in its total, and
    the pool's queue and pipe round trip are measured apart from it."""
    case = cases["blue-header-1-of-21"]
    a = await pool.analyse(case.path, case.format)
    stages = dict(a.stages)
    assert list(stages) == ["queue", "ipc", "request", "open", "count", "scan", "render"]
    assert set(stages) <= set(STAGES)
    assert all(v >= 0 for v in stages.values())
    inside = sum(v for k, v in stages.items() if k not in ("queue", "ipc", "request"))
    assert 0 < inside <= a.seconds
    assert stages["render"] > stages["scan"] / 100  # a gs run, not a lap's rounding
    ps = await pool.analyse(cases["ps-a4"].path, "application/postscript")
    assert [s for s, _ in ps.stages] == ["queue", "ipc", "request"]


def test_a_workers_stage_timings_are_kept_only_when_they_are_ours() -> None:
    """A worker reads hostile documents, and stage names become metric labels: only the
    known names with a finite, non-negative time pass; the pool's own two come first."""
    result = {"format": "application/pdf", "pages": 1, "page_sizes": [[595, 842]],
              "colour_pages": [], "methods": [], "notes": [], "seconds": 0.01,
              "stages": [["open", 0.001], ['x",stage="queue', 1.0], ["scan", float("nan")],
                         ["count", -1.0], ["render", float("inf")], ["queue", 5.0],
                         "scan", ["write"], ["scan", "0.1"], ["render", 0.002]]}
    a = pool_module._analysis(pool_module._Answer(result, 0.003, 0.0004))
    assert a.stages == (("queue", 0.003), ("ipc", 0.0004), ("open", 0.001), ("render", 0.002))
    b = pool_module._analysis(pool_module._Answer({**result, "stages": 7}, 0.003, 0.0004))
    assert b.stages == (("queue", 0.003), ("ipc", 0.0004))


# A stand-in worker process that answers every request with the line it was started with.
_FAKE_WORKER = """
import sys
for _ in sys.stdin:
    sys.stdout.write(sys.argv[1] + "\\n")
    sys.stdout.flush()
"""
_GOOD = {"format": "application/pdf", "pages": 1, "page_sizes": [[595.0, 842.0]],
         "colour_pages": [], "methods": ["pikepdf"], "notes": [], "seconds": 0.001,
         "stages": [["open", 0.0005]]}


class _ScriptedPool(AnalysisPool):
    """One worker, a real process on real pipes, whose every answer is ``answer``."""

    def __init__(self, answer: str) -> None:
        super().__init__(1)
        self.answer = answer

    async def _spawn(self) -> pool_module._Worker:
        assert self._scratch is not None
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", _FAKE_WORKER, self.answer, stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, start_new_session=True)
        w = pool_module._Worker(proc, self._scratch.worker_dir())
        self._all.add(w)
        return w


@pytest.mark.parametrize("answer", [
    "[1, 2]",
    json.dumps({"ok": True, "result": None}),
    json.dumps({"ok": True, "result": [_GOOD]}),
    json.dumps({"ok": True, "result": {**_GOOD, "pages": "1"}}),
    json.dumps({"ok": True, "result": {**_GOOD, "pages": True}}),
    json.dumps({"ok": True, "result": {**_GOOD, "pages": -3}}),
    json.dumps({"ok": True, "result": {**_GOOD, "colour_pages": [1.5]}}),
    json.dumps({"ok": True, "result": {**_GOOD, "page_sizes": [[595.0]]}}),
    json.dumps({"ok": True, "result": {**_GOOD, "methods": [{"x": 1}]}}),
    json.dumps({"ok": True, "result": {**_GOOD, "seconds": float("nan")}}),
    json.dumps({"ok": True, "result": {k: v for k, v in _GOOD.items() if k != "format"}}),
    json.dumps({"ok": True, "worker_seconds": "soon", "result": _GOOD}),
])
async def test_a_worker_that_answers_garbage_is_replaced(answer: str) -> None:
    """A worker that a hostile document subverted may answer anything: whatever is not the
    shape asked for is an AnalysisError for that document (never a crash of the caller),
    and the worker is replaced rather than given the next one."""
    async with _ScriptedPool(answer) as pool:
        with pytest.raises(AnalysisError, match="garbage"):
            await pool.analyse_bytes(b"%PDF-1.4", "application/pdf")
        assert pool.replaced == 1


async def test_a_scripted_worker_that_answers_well_is_kept() -> None:
    """The stand-in above is heard: its good answer is the analysis."""
    async with _ScriptedPool(json.dumps({"ok": True, "worker_seconds": 0.001,
                                         "result": _GOOD})) as pool:
        a = await pool.analyse_bytes(b"%PDF-1.4", "application/pdf")
        assert (a.pages, a.colour_pages, a.methods) == (1, (), ("pikepdf",))
        assert pool.replaced == 0


async def test_garbled_inline_document(pool: AnalysisPool, cases: dict[str, corpus.Case]) -> None:
    with pytest.raises(AnalysisError, match="garbled"):
        await pool._call({"op": "analyse", "data": "not base64!", "format": "application/pdf"},
                         pool_module._analysis)
    with pytest.raises(FormatError):
        await pool.analyse_bytes(b"%PDF-1.4 nothing else", "application/pdf")
    with pytest.raises(ValueError, match="from a file"):
        await pool.analyse_bytes(bytes(MAX_INLINE_BYTES + 1), "application/pdf")
    await _still_works(pool, cases)
    assert pool.replaced == 0


async def test_workers_go_to_the_longest_waiting(cases: dict[str, corpus.Case]) -> None:
    """First come, first served: a caller that asks again as soon as its answer came does
    not take the worker ahead of one that was already waiting."""
    slow, fast = cases["blue-header-1-of-21"], cases["black-text-rgb"]
    order: list[str] = []
    async with AnalysisPool(1, wall_seconds=60) as pool:

        async def eager() -> None:
            await pool.analyse(slow.path, slow.format)
            order.append("eager 1")
            await pool.analyse(fast.path, fast.format)   # at once, without yielding first
            order.append("eager 2")

        async def patient() -> None:
            await pool.analyse(fast.path, fast.format)
            order.append("patient")

        first = asyncio.ensure_future(eager())
        # eager holds the only worker (its document is staged in a thread first)
        await _until(lambda: not pool._idle)
        await asyncio.gather(first, patient())
    assert order == ["eager 1", "patient", "eager 2"]


async def test_close_fails_waiting_requests(cases: dict[str, corpus.Case],
                                           tmp_path: Path) -> None:
    slow = tmp_path / "loop.ps"          # holds the worker until its CPU limit
    slow.write_bytes(b"%!PS\n{ 1 pop } loop\n")
    pool = AnalysisPool(1, cpu_seconds=5, wall_seconds=60)
    await pool.start()
    busy = asyncio.ensure_future(pool.analyse(slow, "application/postscript"))
    await _until(lambda: not pool._idle)
    waiting = asyncio.ensure_future(pool.analyse(cases["black-text-rgb"].path,
                                                 "application/pdf"))
    await _until(lambda: pool.waiting == 1)
    await pool.close()
    with pytest.raises(AnalysisError, match="closed"):
        await waiting
    with contextlib.suppress(AnalysisError):
        await busy
