"""The worker's resident Ghostscript: the same pixels as a fresh gs, one gs for many
documents, confined to the worker's directory, limited in time and CPU (resident.py)."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import corpus
import pytest

from ippproxy.filters import ghostscript
from ippproxy.filters import resident as resident_module
from ippproxy.filters.colour import RENDER_DPI
from ippproxy.filters.errors import LimitExceeded
from ippproxy.filters.pool import AnalysisPool
from ippproxy.filters.resident import JOBS_PER_PROCESS, ResidentGs, Unavailable


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    h = tmp_path / "home"
    (h / "r-1").mkdir(parents=True, mode=0o700)
    yield h


@pytest.fixture
def resident(home: Path) -> Iterator[ResidentGs]:
    r = ResidentGs(home, RENDER_DPI)
    yield r
    r.close()


def _inside(home: Path, case: corpus.Case) -> Path:
    path = home / "r-1" / "input.pdf"
    shutil.copyfile(case.path, path)
    return path


def test_same_pixels_as_a_fresh_gs(cases: dict[str, corpus.Case], home: Path,
                                   resident: ResidentGs) -> None:
    pdfs = [c for c in cases.values() if c.format == "application/pdf"]
    assert len(pdfs) >= 10
    for case in pdfs:
        path = _inside(home, case)
        pages = list(range(1, case.pages + 1))
        fresh = list(ghostscript.render_pages(path, dpi=RENDER_DPI, page_list=pages))
        kept = list(resident.render(path, pages, path.parent))
        assert len(kept) == case.pages, case.name
        assert kept == fresh, case.name
        if case.pages > 2:      # a page list, as the content scan asks for
            assert list(resident.render(path, [2, case.pages], path.parent)) == \
                [fresh[1], fresh[-1]], case.name
    assert resident.started == 1
    assert list((home / "r-1").iterdir()) == [home / "r-1" / "input.pdf"]  # no render left


def test_restarted_after_its_quota_and_after_dying(cases: dict[str, corpus.Case], home: Path,
                                                   resident: ResidentGs,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    assert JOBS_PER_PROCESS >= 10
    monkeypatch.setattr(resident_module, "JOBS_PER_PROCESS", 5)
    path = _inside(home, cases["colour-image"])
    for _ in range(5):
        assert len(list(resident.render(path, [1], path.parent))) == 1
    first = resident.pid
    assert resident.started == 1 and first is not None
    assert len(list(resident.render(path, [1], path.parent))) == 1
    assert resident.started == 2 and resident.pid != first
    os.kill(resident.pid or 0, 9)
    assert resident._proc is not None and resident._proc.wait() == -9
    assert len(list(resident.render(path, [1], path.parent))) == 1
    assert resident.started == 3


def test_confined_to_its_home(cases: dict[str, corpus.Case], home: Path, tmp_path: Path,
                              resident: ResidentGs, monkeypatch: pytest.MonkeyPatch) -> None:
    outside = tmp_path / "other-job.pdf"
    shutil.copyfile(cases["colour-image"].path, outside)
    assert not resident.can_read(outside)
    with pytest.raises(Unavailable):
        list(resident.render(outside, [1], home / "r-1"))
    # Asked anyway (the check bypassed), gs itself refuses to open it under -dSAFER.
    monkeypatch.setattr(resident, "can_read", lambda path: True)
    with pytest.raises(Unavailable, match="failed"):
        list(resident.render(outside, [1], home / "r-1"))
    assert not (home / "r-1" / "render.ppm").exists()
    odd = home / "r-1" / "a (b).pdf"        # not plain enough for a PostScript string
    monkeypatch.undo()
    assert not resident.can_read(odd)


def test_time_and_cpu_limits(cases: dict[str, corpus.Case], home: Path,
                             resident: ResidentGs) -> None:
    path = _inside(home, cases["blue-header-1-of-21"])
    list(resident.render(path, [1], path.parent, cpu_seconds=7))
    pid = resident.pid
    limits = Path(f"/proc/{pid}/limits").read_text().splitlines()
    cpu = next(line for line in limits if line.startswith("Max cpu time")).split()
    assert 8 <= int(cpu[3]) <= 9        # seconds used so far (0 or 1) + 7 + 1
    with pytest.raises(LimitExceeded):
        list(resident.render(path, list(range(1, 22)) * 50, path.parent, timeout=0.05))
    assert resident.pid is None and not Path(f"/proc/{pid}").exists()
    assert len(list(resident.render(path, [1], path.parent))) == 1   # a fresh one


async def test_one_gs_per_worker_for_documents_from_memory(
        cases: dict[str, corpus.Case]) -> None:
    data = cases["blue-header-1-of-21"].path.read_bytes()
    async with AnalysisPool(1) as pool:
        (worker,) = pool._all
        seen = set()
        for _ in range(5):
            analysis = await pool.analyse_bytes(data, "application/pdf")
            assert analysis.colour_pages == (1,) and "gs-render:1" in analysis.methods
            seen.add(tuple(_children(worker.proc.pid)))
        (kids,) = seen                  # the same gs every time
        assert len(kids) == 1
        cmdline = Path(f"/proc/{kids[0]}/cmdline").read_bytes().split(b"\0")
        assert b"-dSAFER" in cmdline and f"--permit-file-read={worker.home}/".encode() in cmdline
        env = Path(f"/proc/{kids[0]}/environ").read_bytes().split(b"\0")
        assert f"TMPDIR={worker.home}".encode() in env
        await asyncio.sleep(0)


def _children(pid: int) -> list[int]:
    return sorted(int(p) for t in Path(f"/proc/{pid}/task").iterdir()
                  for p in (t / "children").read_text().split())
