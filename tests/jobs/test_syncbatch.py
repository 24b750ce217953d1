"""The spool's batch thread: documents finishing together share a directory fsync, and one
document's failure stays its own."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import threading
from pathlib import Path

import pytest

from ippproxy.jobs._syncbatch import SyncBatcher
from ippproxy.jobs.spool import Spool


class Doc:
    def __init__(self, key: object, *, fail: str | None = None,
                 gate: threading.Event | None = None) -> None:
        self.key = key
        self.fail = fail
        self.gate = gate
        self.entered = threading.Event()
        self.calls: list[str] = []
        self.dir_syncs = 0

    def _step(self, name: str) -> None:
        self.calls.append(name)
        if self.fail == name:
            raise OSError(5, f"{name} failed")

    def prepare(self) -> None:
        self.entered.set()
        if self.gate is not None:
            self.gate.wait(10)
        self._step("prepare")

    def flush(self) -> None:
        self._step("flush")

    def seal(self) -> None:
        self._step("seal")

    def directory_sync(self) -> None:
        self.dir_syncs += 1
        self._step("directory_sync")

    @property
    def directory_key(self) -> object:
        return self.key


async def _batched(docs: list[Doc]) -> tuple[SyncBatcher, list[BaseException | None]]:
    """Submit ``docs[0]`` (held at its prepare) and then the rest, which therefore wait
    in the queue and form the second batch."""
    batcher = SyncBatcher(name="test-spool-sync")
    gate = threading.Event()
    first = Doc("d0", gate=gate)
    tickets = [batcher.submit(first)]
    assert await asyncio.to_thread(first.entered.wait, 10)   # the thread holds batch 1
    tickets += [batcher.submit(d) for d in docs]
    gate.set()
    results = await asyncio.gather(*(t.future for t in tickets), return_exceptions=True)
    errors = [r if isinstance(r, BaseException) else None for r in results]
    assert errors[0] is None and first.calls == ["prepare", "flush", "seal", "directory_sync"]
    return batcher, errors[1:]


async def test_waiting_documents_share_one_directory_sync() -> None:
    docs = [Doc("same") for _ in range(5)]
    batcher, errors = await _batched(docs)
    assert errors == [None] * 5
    assert (batcher.batches, batcher.documents) == (2, 6)
    assert sum(d.dir_syncs for d in docs) == 1
    assert all(d.calls[:3] == ["prepare", "flush", "seal"] for d in docs)


async def test_a_failing_document_fails_alone() -> None:
    docs = [Doc("same"), Doc("same", fail="flush"), Doc("same", fail="prepare"), Doc("same")]
    _, errors = await _batched(docs)
    assert errors[0] is None and errors[3] is None
    assert isinstance(errors[1], OSError) and "flush" in str(errors[1])
    assert isinstance(errors[2], OSError) and "prepare" in str(errors[2])
    assert docs[2].calls == ["prepare"]          # never flushed nor sealed
    assert "seal" not in docs[1].calls


async def test_a_failing_directory_sync_fails_its_directory_only() -> None:
    bad = [Doc("bad", fail="directory_sync"), Doc("bad")]
    good = [Doc("good"), Doc("good")]
    _, errors = await _batched([bad[0], good[0], bad[1], good[1]])
    assert isinstance(errors[0], OSError) and isinstance(errors[2], OSError)
    assert errors[1] is None and errors[3] is None


async def test_concurrent_documents_are_all_durable_and_named(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool", 1 << 20)
    payloads = [os.urandom(100 + n) for n in range(40)]

    async def put(data: bytes) -> str:
        async with spool.writer() as w:
            await w.write(data)
        return w.name

    names = await asyncio.gather(*(put(p) for p in payloads))
    assert len(set(names)) == 40
    assert spool.names() == set(names)
    for name, data in zip(names, payloads, strict=True):
        assert spool.path(name).read_bytes() == data
    assert not [n for n in os.listdir(spool.root) if n.endswith(".tmp")]


async def test_a_bad_document_in_a_batch_leaves_nothing(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool", 1 << 20)

    async def put(data: bytes, compression: str) -> str:
        async with spool.writer(compression) as w:
            await w.write(data)
        return w.name

    results = await asyncio.gather(put(b"fine", "none"), put(b"not gzip at all", "gzip"),
                                   put(b"also fine", "none"), return_exceptions=True)
    assert isinstance(results[1], Exception)
    good = {r for r in results if isinstance(r, str)}
    assert len(good) == 2
    assert set(os.listdir(spool.root)) == good


async def test_cleanup_waits_for_the_thread() -> None:
    batcher = SyncBatcher(name="test-spool-sync")
    gate = threading.Event()
    doc = Doc("d", gate=gate)
    ticket = batcher.submit(doc)
    assert await asyncio.to_thread(doc.entered.wait, 10)
    cleaned = threading.Event()
    ticket.after(cleaned.set)
    assert not cleaned.is_set()          # the thread still has the document
    gate.set()
    assert await asyncio.to_thread(cleaned.wait, 10)
    await ticket.future
    late: list[int] = []
    ticket.after(lambda: late.append(1))  # done already: runs at once
    assert late == [1]


@pytest.mark.parametrize("size", [10, 3 << 20])   # one batch, and a streamed document
async def test_cancelled_finish_leaves_nothing(tmp_path: Path, size: int) -> None:
    batcher = SyncBatcher(name="test-spool-sync")
    spool = Spool(tmp_path / "spool", 1 << 30, batcher=batcher)
    started = asyncio.Event()
    gate = threading.Event()
    blocker = Doc("blocker", gate=gate)   # holds the batch thread: our document must wait
    held = batcher.submit(blocker)
    assert await asyncio.to_thread(blocker.entered.wait, 10)

    async def put() -> None:
        async with spool.writer() as w:
            await w.write(b"x" * size)
            started.set()

    task = asyncio.create_task(put())
    await started.wait()
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    gate.set()
    await held.future
    for _ in range(500):   # the cleanup runs once the batch thread is done with the file
        if not os.listdir(spool.root):
            break
        await asyncio.sleep(0.01)
    assert os.listdir(spool.root) == []


async def test_each_spool_has_its_own_batcher_and_pool_unless_given(tmp_path: Path) -> None:
    one, two = Spool(tmp_path / "one", 1 << 20), Spool(tmp_path / "two", 1 << 20)
    assert one.batcher is not two.batcher and one.pool is not two.pool
    batcher = SyncBatcher(name="test-spool-sync")
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        shared = [Spool(tmp_path / f"shared{i}", 1 << 20, batcher=batcher, pool=pool)
                  for i in range(2)]
        assert all(s.batcher is batcher and s.pool is pool for s in shared)
        for spool in (*shared, one):
            async with spool.writer() as w:
                await w.write(b"%PDF-1.4 x")
            assert spool.path(w.name).read_bytes() == b"%PDF-1.4 x"
    # Both shared spools finished their documents in the batcher they were given.
    assert batcher.documents == 2 and one.batcher.documents == 1 and two.batcher.documents == 0


async def test_the_batch_thread_ends_when_idle_and_comes_back() -> None:
    batcher = SyncBatcher(name="test-idle-sync", idle=0.05)
    assert not batcher.running
    for round_ in (1, 2):
        doc = Doc("d")
        await batcher.submit(doc).future
        assert doc.calls == ["prepare", "flush", "seal", "directory_sync"]
        for _ in range(500):
            if not batcher.running:
                break
            await asyncio.sleep(0.01)
        assert not batcher.running, f"the thread is still there after round {round_}"
        assert not [t for t in threading.enumerate() if t.name == "test-idle-sync"]
    assert batcher.documents == 2
