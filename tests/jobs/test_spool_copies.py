"""Small documents live in the job store (jobs/spool.py, "small documents").

The spool writes no file for them; their bytes are committed with the job
(``spool_copies``) and read from there, and a file is written (without fsync) only for
a reader that needs a path. A power cut cannot be staged in a test, so its effect is:
such a file is missing, empty or cut short after the restart (what ext4 leaves of a file
that was never fsync'd).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from ippproxy.jobs.records import NewDocument
from ippproxy.jobs.spool import Spool, SpoolError
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


async def test_small_document_has_no_file(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    spool = copying_spool(tmp_path)
    calls = synced(monkeypatch)
    data = b"%PDF-1.7 small" * 100
    doc = await spool_doc(spool, data, chunks=3)
    assert calls == []                                  # no fsync of file or directory
    assert doc.content == data and doc.size == len(data)
    assert doc.sha256 == hashlib.sha256(data).hexdigest()
    assert os.listdir(spool.root) == []                 # not even a temporary file
    assert not await spool.has(doc.spool_name)          # no copy source yet
    with pytest.raises(FileNotFoundError):
        [c async for c in spool.open(doc.spool_name)]

    copies = {doc.spool_name: data}
    asked: list[str] = []

    class Copies:
        async def copy_of(self, name: str) -> bytes | None:
            asked.append(name)
            return copies.get(name)

        async def has_copy(self, name: str) -> bool:
            return name in copies

    spool.copies = Copies()
    assert await spool.has(doc.spool_name)
    assert b"".join([c async for c in spool.open(doc.spool_name, 500)]) == data
    assert os.listdir(spool.root) == []                 # streamed from the copy
    path = await spool.ensure_file(doc.spool_name)      # a reader that needs a path
    assert path.read_bytes() == data and calls == []
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    asked.clear()
    assert b"".join([c async for c in spool.open(doc.spool_name)]) == data
    assert asked == []                                  # the file is used once it exists
    assert [n for n in os.listdir(spool.root) if n.endswith(".tmp")] == []
    with pytest.raises(SpoolError):
        await spool.ensure_file("../../etc/passwd")


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


async def test_a_broken_upload_leaves_nothing(tmp_path: Path) -> None:
    spool = copying_spool(tmp_path)
    with pytest.raises(RuntimeError):
        async with spool.writer(copy=True) as w:
            await w.write(b"%PDF")
            raise RuntimeError("client went away")
    assert w.content is None and os.listdir(spool.root) == []


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


@pytest.mark.parametrize("damage", ["no file", "missing", "empty", "cut short", "wrong bytes"])
async def test_recovery_reads_a_small_document_from_its_copy(
        tmp_path: Path, engine: Engine, damage: str) -> None:
    spool = copying_spool(tmp_path)
    data = b"%PDF-1.7 " + os.urandom(2000)
    async with JobStore(engine) as store:
        spool.copies = store
        doc = await spool_doc(spool, data)
        job = await store.create_job("q", owner="u", documents=[doc])
        uncopied = await spool_doc(spool, b"%PDF big one", copy=False)
        other = await store.create_job("q", owner="u", documents=[uncopied])
        path = spool.path(doc.spool_name)
        if damage != "no file":
            await spool.ensure_file(doc.spool_name)  # as for a conversion
            assert path.read_bytes() == data
    if damage == "missing":
        path.unlink()
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "cut short":
        path.write_bytes(data[:100])
    elif damage == "wrong bytes":
        path.write_bytes(bytes(len(data)))
    spool.path(uncopied.spool_name).unlink()   # no copy: this one can only be aborted
    async with JobStore(engine) as store:
        spool.copies = store
        changed = {r.uuid: r for r in await store.recover(spool)}
        assert job.uuid not in changed
        rec = await store.get_by_uuid(job.uuid)
        assert rec is not None and rec.state is JobState.PENDING
        assert not path.exists()                    # a damaged file is not trusted
        got = b"".join([c async for c in spool.open(doc.spool_name)])
        assert hashlib.sha256(got).hexdigest() == rec.documents[0].sha256
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
    async with JobStore(engine) as store:
        changed = {r.uuid: r for r in await store.recover(spool)}
    assert changed[job.uuid].state is JobState.ABORTED
    assert not spool.path(doc.spool_name).exists()


# A PDF's objects are mostly text: such a copy is kept compressed (jobs/_copies.py).
TEXTLIKE = b"%PDF-1.7\n" + b"".join(b"%d 0 obj << /Type /Page /Parent 2 0 R >> endobj\n" % i
                                    for i in range(60))


async def test_a_copy_is_kept_compressed_only_when_that_pays(
        tmp_path: Path, engine: Engine) -> None:
    spool = copying_spool(tmp_path)
    noise = b"%PDF-1.7 " + os.urandom(3000)
    async with JobStore(engine) as store:
        spool.copies = store
        docs = [await spool_doc(spool, data) for data in (TEXTLIKE, noise)]
        await store.create_job("q", owner="u", documents=[docs[0]])
        open_job = await store.create_job("q", owner="u", closed=False)
        await store.add_document(open_job.uuid, docs[1], last=True)   # the other road
        with engine.connect() as conn:
            stored = {n: (bytes(c), e) for n, c, e in conn.execute(
                text("SELECT spool_name, content, encoding FROM spool_copies"))}
        content, encoding = stored[docs[0].spool_name]
        assert encoding == "zlib" and len(content) < len(TEXTLIKE) // 4
        assert stored[docs[1].spool_name] == (noise, None)
        for doc, data in zip(docs, (TEXTLIKE, noise), strict=True):
            assert await store.copy_of(doc.spool_name) == data
            assert b"".join([c async for c in spool.open(doc.spool_name)]) == data


async def _textlike_job(tmp_path: Path, engine: Engine, *,
                        with_file: bool) -> tuple[Spool, NewDocument, str]:
    """A job whose document is TEXTLIKE (its copy compressed); ``with_file``: its file
    written too, as for a conversion. The spool, the document and the job's uuid."""
    spool = copying_spool(tmp_path)
    async with JobStore(engine) as store:
        spool.copies = store
        doc = await spool_doc(spool, TEXTLIKE)
        job = await store.create_job("q", owner="u", documents=[doc])
        if with_file:
            await spool.ensure_file(doc.spool_name)
    return spool, doc, job.uuid


async def test_recovery_rewrites_a_document_from_its_compressed_copy(
        tmp_path: Path, engine: Engine) -> None:
    spool, doc, job = await _textlike_job(tmp_path, engine, with_file=True)
    spool.path(doc.spool_name).write_bytes(TEXTLIKE[:50])      # cut short by a crash
    async with JobStore(engine) as store:
        spool.copies = store
        changed = {r.uuid for r in await store.recover(spool)}
        assert job not in changed
        got = b"".join([c async for c in spool.open(doc.spool_name)])
    assert got == TEXTLIKE


async def test_a_copy_that_does_not_decompress_is_no_copy(
        tmp_path: Path, engine: Engine, caplog: pytest.LogCaptureFixture) -> None:
    spool, doc, job = await _textlike_job(tmp_path, engine, with_file=False)
    with engine.begin() as conn:
        conn.execute(text("UPDATE spool_copies SET content = :c"), {"c": b"not zlib"})
    async with JobStore(engine) as store:
        assert await store.copy_of(doc.spool_name) is None
    assert "does not decompress" in caplog.text and "treated as missing" in caplog.text
    async with JobStore(engine) as store:      # no file, no copy: the job cannot print
        changed = {r.uuid: r for r in await store.recover(spool)}
    assert changed[job].state is JobState.ABORTED
