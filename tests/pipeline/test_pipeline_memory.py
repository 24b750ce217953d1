"""With accounting on, a small document held in memory (``spool.writer(copy=True)``) is
analysed from its bytes: no file is written for it in the spool before its job is created,
unless a forced conversion needs one (then only in the converter's scratch directory),
and it is counted, priced and reserved as a file would be. Real spool, job store,
analysis pool, gs and pikepdf; no HTTP."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pipeline_docs as docs
import pytest
import pytest_asyncio
from conftest import add_user, build, config, submission
from sqlalchemy import Engine

from ippproxy.accounting import ledger
from ippproxy.accounting.txn import in_transaction
from ippproxy.filters.pool import AnalysisPool
from ippproxy.jobs.records import JobRecord
from ippproxy.jobs.spool import Spool
from ippproxy.jobs.store import JobStore
from ippproxy.pipeline import intake as intake_module


class WatchedSpool(Spool):
    """A real spool that counts the files written for documents held in memory."""

    def __init__(self, root: Path) -> None:
        super().__init__(root, 1 << 30, copy_max=65536)
        self.unsynced: list[str] = []
        self.ensured: list[str] = []

    def write_unsynced(self, name: str, data: bytes) -> None:
        self.unsynced.append(name)
        super().write_unsynced(name, data)

    async def ensure_file(self, name: str) -> Path:
        self.ensured.append(name)
        return await super().ensure_file(name)


def files_under(root: Path) -> list[str]:
    """Every file below ``root``, temporaries included (a name a crash could leave)."""
    return sorted(str(Path(d, f).relative_to(root)) for d, _, fs in os.walk(root) for f in fs)


class WatchedStore(JobStore):
    """A real job store that records what the spool held when each job was created."""

    def __init__(self, engine: Engine, root: Path) -> None:
        super().__init__(engine)
        self.root = root
        self.at_create: list[list[str]] = []

    async def create_job(self, *args: Any, **kwargs: Any) -> JobRecord:
        self.at_create.append(files_under(self.root))
        return await super().create_job(*args, **kwargs)


@pytest.fixture
def watched_spool(tmp_path: Path) -> WatchedSpool:
    return WatchedSpool(tmp_path / "held")


@pytest_asyncio.fixture
async def watched_store(engine: Engine,
                        watched_spool: WatchedSpool) -> AsyncIterator[WatchedStore]:
    async with WatchedStore(engine, watched_spool.root) as s:
        watched_spool.copies = s
        yield s


def charges(engine: Engine, job: str) -> list[tuple[int, str]]:
    rows: list[ledger.Posting] = in_transaction(
        engine, lambda c: ledger.entries(c, job_uuid=uuid.UUID(job)))
    return [(r.amount, r.kind) for r in rows]


async def test_a_small_pdf_is_analysed_from_memory_and_charged(
        engine: Engine, watched_store: WatchedStore, watched_spool: WatchedSpool,
        pool: AnalysisPool) -> None:
    p = build(config(), engine, watched_store, watched_spool, pool)
    pdf = docs.pdf_bytes([True, False])
    job = (await p.intake.print_job(submission(pdf, fmt="application/octet-stream"))).job
    # Nothing was written into the spool for the document, at any step before the job row
    # (the converter's scratch directory, under the spool, included).
    assert watched_spool.unsynced == [] and watched_spool.ensured == []
    assert watched_store.at_create == [[]]
    assert files_under(watched_spool.root) == []
    # Counted and priced from the bytes: 2 impressions (1 colour) 10 + 50, fee 5.
    assert job.document_format == "application/pdf"             # detected from the bytes
    assert job.analysis is not None
    assert job.analysis["attributes"]["job-impressions"] == 2
    assert job.analysis["attributes"]["job-impressions-col"] == 1
    assert job.analysis["estimate"] == 65
    assert charges(engine, job.uuid) == [(-65, "charge")]
    # The document's home is the job store, committed with the row.
    assert await watched_store.copy_of(job.documents[0].spool_name) == pdf


async def test_forced_grayscale_of_a_small_colour_pdf_converts_without_a_spool_copy(
        engine: Engine, watched_store: WatchedStore, watched_spool: WatchedSpool,
        pool: AnalysisPool) -> None:
    p = build(config(), engine, watched_store, watched_spool, pool)
    add_user(engine, "sam", balance=500, groups=("students",))
    pdf = docs.pdf_bytes([True, True, False])
    job = (await p.intake.print_job(submission(pdf, user="sam"))).job
    new = job.documents[0]
    # The received document never became a spool file: the converter read it from a
    # scratch file of its own, gone now; the spool holds only the converted document.
    assert watched_spool.unsynced == [] and watched_spool.ensured == []
    assert watched_store.at_create == [[new.spool_name]]
    assert files_under(watched_spool.root) == [new.spool_name]
    assert watched_spool.names() == {new.spool_name}
    check = await pool.analyse(watched_spool.path(new.spool_name), "application/pdf")
    assert check.pages == 3 and check.colour_pages == ()
    assert job.analysis is not None and job.analysis["grayscale"] is True
    assert job.analysis["attributes"]["job-impressions-col"] == 0
    assert job.analysis["estimate"] == 5 + 3 * 10
    assert charges(engine, job.uuid) == [(-35, "charge")]


async def test_forced_duplex_of_small_postscript_from_memory(
        engine: Engine, watched_store: WatchedStore, watched_spool: WatchedSpool,
        pool: AnalysisPool, tmp_path: Path) -> None:
    cfg = config(queue=[{"name": "colour", "cost_model": "colour", "force_duplex": True}])
    p = build(cfg, engine, watched_store, watched_spool, pool)
    ps = docs.postscript(tmp_path / "d.ps", [False, False, False]).read_bytes()
    job = (await p.intake.print_job(submission(ps, fmt="application/postscript"))).job
    assert watched_spool.unsynced == [] and watched_spool.ensured == []
    converted = watched_spool.path(job.documents[0].spool_name).read_bytes()
    assert b"/Duplex true" in converted
    assert job.analysis is not None
    assert job.analysis["attributes"]["job-impressions"] == 3
    assert job.analysis["attributes"]["job-media-sheets"] == 2
    # 3 mono impressions 30, two of them on a two-sided sheet: -10, fee 5.
    assert job.analysis["estimate"] == 5 + 30 - 10


async def test_a_held_document_too_big_to_send_inline_is_analysed_from_a_file(
        engine: Engine, watched_store: WatchedStore, watched_spool: WatchedSpool,
        pool: AnalysisPool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Documents over ``pool.MAX_INLINE_BYTES`` go to the worker as a path (the spool's
    copy limit keeps held documents under it today; a smaller limit shows the road)."""
    monkeypatch.setattr(intake_module, "MAX_INLINE_BYTES", 64)
    p = build(config(), engine, watched_store, watched_spool, pool)
    pdf = docs.pdf_bytes([False, False])
    job = (await p.intake.print_job(submission(pdf))).job
    name = job.documents[0].spool_name
    assert watched_spool.unsynced == [name]
    assert watched_store.at_create == [[name]]
    assert job.analysis is not None and job.analysis["estimate"] == 5 + 2 * 10
