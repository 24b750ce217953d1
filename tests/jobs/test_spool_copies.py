"""Small documents made durable by a copy committed with the job (jobs/spool.py).

The spool writes them without fsync; the copy in ``spool_copies`` is what survives a
power cut, and recovery rewrites the file from it. A power cut cannot be staged in a
test, so its effect is: the file of an acknowledged job is missing, empty or cut short
after the restart (what ext4 leaves of a file that was never fsync'd).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from ippproxy.jobs.records import NewDocument
from ippproxy.jobs.spool import Spool
from ippproxy.jobs.state import JobEvent, JobState
from ippproxy.jobs.store import JobStore


def copying_spool(tmp_path: Path, copy_max: int = 4096) -> Spool:
    return Spool(tmp_path / "spool", max_bytes=10 << 20, copy_max=copy_max)


async def spool_doc(spool: Spool, data: bytes, *, copy: bool = True,
                    compression: str = "none", chunks: int = 1) -> NewDocument:
    async with spool.writer(compression, copy=copy) as w:
        step = max(1, len(data) // chunks)
        for i in range(0, len(data), step):
            await w.write(data[i:i + step])
    return NewDocument(spool_name=w.name, size=w.size, sha256=w.sha256,
                       format="application/pdf", content=w.content)


def synced(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record every fsync the process makes from now on."""
    calls: list[int] = []
    real = os.fsync

    def fsync(fd: int) -> None:
        calls.append(fd)
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    return calls


async def test_small_document_is_copied_not_synced(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    spool = copying_spool(tmp_path)
    calls = synced(monkeypatch)
    data = b"%PDF-1.7 small" * 100
    doc = await spool_doc(spool, data, chunks=3)
    assert calls == []                                  # no fsync of file or directory
    assert doc.content == data and doc.size == len(data)
    assert doc.sha256 == hashlib.sha256(data).hexdigest()
    assert spool.path(doc.spool_name).read_bytes() == data
    assert [n for n in os.listdir(spool.root) if n.endswith(".tmp")] == []
    assert oct(spool.path(doc.spool_name).stat().st_mode & 0o777) == "0o600"


@pytest.mark.parametrize(("size", "copy", "compression", "copy_max"), [
    (4097, True, "none", 4096),     # bigger than copy_max
    (100, False, "none", 4096),     # the caller did not ask (it would not commit the copy)
    (100, True, "gzip", 4096),      # compressed: inflated in a thread, the long road
    (100, True, "none", 0),         # copies switched off (storage.copy_max_bytes = 0)
])
async def test_other_documents_are_fsynced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           size: int, copy: bool, compression: str,
                                           copy_max: int) -> None:
    import gzip
    spool = copying_spool(tmp_path, copy_max)
    calls = synced(monkeypatch)
    data = os.urandom(size)
    body = gzip.compress(data) if compression == "gzip" else data
    doc = await spool_doc(spool, body, copy=copy, compression=compression)
    assert doc.content is None
    assert len(calls) >= 2                              # the file and the directory
    assert spool.path(doc.spool_name).read_bytes() == data


async def test_failed_intake_removes_the_copied_file(tmp_path: Path) -> None:
    spool = copying_spool(tmp_path)
    with pytest.raises(RuntimeError):
        async with spool.writer(copy=True) as w:
            await w.write(b"%PDF")
            raise RuntimeError("client went away")
    assert spool.names() == set()


async def test_copy_is_committed_with_the_job_and_dropped_when_it_ends(
        tmp_path: Path, engine: Engine) -> None:
    spool = copying_spool(tmp_path)
    async with JobStore(engine) as store:
        small = await spool_doc(spool, b"%PDF small")
        big = await spool_doc(spool, os.urandom(5000))
        a = await store.create_job("q", owner="u", documents=[small])
        b = await store.create_job("q", owner="u", documents=[big])
        c = await store.create_job("q", owner="u", closed=False)
        late = await spool_doc(spool, b"%PDF sent later")
        await store.add_document(c.uuid, late, last=True)

        def copies() -> dict[str, bytes]:
            with engine.connect() as conn:
                rows = conn.execute(text("SELECT spool_name, content FROM spool_copies"))
                return {n: bytes(v) for n, v in rows}

        assert copies() == {small.spool_name: b"%PDF small", late.spool_name: b"%PDF sent later"}
        assert b.documents[0].spool_name not in copies()
        await store.transition(a.uuid, JobEvent.START)
        assert small.spool_name in copies()                # still to be printed
        await store.transition(a.uuid, JobEvent.COMPLETE)
        await store.transition(c.uuid, JobEvent.CANCEL)
        assert copies() == {}                               # ended jobs need no second copy


@pytest.mark.parametrize("damage", ["missing", "empty", "cut short", "wrong bytes"])
async def test_recovery_rewrites_a_lost_file_from_its_copy(
        tmp_path: Path, engine: Engine, damage: str) -> None:
    spool = copying_spool(tmp_path)
    data = b"%PDF-1.7 " + os.urandom(2000)
    async with JobStore(engine) as store:
        doc = await spool_doc(spool, data)
        job = await store.create_job("q", owner="u", documents=[doc])
        uncopied = await spool_doc(spool, b"%PDF big one", copy=False)
        other = await store.create_job("q", owner="u", documents=[uncopied])
    path = spool.path(doc.spool_name)
    if damage == "missing":
        path.unlink()
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "cut short":
        path.write_bytes(data[:100])
    else:
        path.write_bytes(bytes(len(data)))
    spool.path(uncopied.spool_name).unlink()   # no copy: this one can only be aborted
    async with JobStore(engine) as store:
        changed = {r.uuid: r for r in await store.recover(spool)}
        assert job.uuid not in changed
        rec = await store.get_by_uuid(job.uuid)
        assert rec is not None and rec.state is JobState.PENDING
        assert path.read_bytes() == data
        assert hashlib.sha256(path.read_bytes()).hexdigest() == rec.documents[0].sha256
        assert changed[other.uuid].state is JobState.ABORTED
        assert "document-access-error" in changed[other.uuid].state_reasons
    assert [n for n in os.listdir(spool.root) if n.endswith(".tmp")] == []


async def test_recovery_does_not_trust_a_copy_that_does_not_match(
        tmp_path: Path, engine: Engine) -> None:
    spool = copying_spool(tmp_path)
    async with JobStore(engine) as store:
        doc = await spool_doc(spool, b"%PDF the real bytes")
        job = await store.create_job("q", owner="u", documents=[doc])
    with engine.begin() as conn:
        conn.execute(text("UPDATE spool_copies SET content = :c"), {"c": b"%PDF other bytes!!!"})
    spool.path(doc.spool_name).unlink()
    async with JobStore(engine) as store:
        changed = {r.uuid: r for r in await store.recover(spool)}
    assert changed[job.uuid].state is JobState.ABORTED
    assert not spool.path(doc.spool_name).exists()
