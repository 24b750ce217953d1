"""The spool: streaming, compression, limits, hashing, symlinks, cleanup."""

from __future__ import annotations

import asyncio
import concurrent.futures
import gzip
import hashlib
import os
import stat
import time
import zlib
from pathlib import Path

import pytest

from ippproxy.jobs._fsio import DirSync
from ippproxy.jobs.spool import (
    Spool,
    SpoolCompressionError,
    SpoolError,
    SpoolLimitExceeded,
)

DATA = os.urandom(300_000) + b"A" * 3_000_000  # > 3 batches, partly compressible


def chunks(data: bytes, size: int = 65536) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def raw_deflate(data: bytes) -> bytes:
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def leftovers(spool: Spool) -> list[str]:
    return sorted(os.listdir(spool.root))


async def store(spool: Spool, payload: bytes, compression: str = "none") -> tuple[str, int, str]:
    async with spool.writer(compression) as w:
        for c in chunks(payload):
            await w.write(c)
    return w.name, w.size, w.sha256


async def read_back(spool: Spool, name: str) -> bytes:
    return b"".join([c async for c in spool.open(name)])


def test_root_is_private(tmp_path: Path) -> None:
    root = tmp_path / "a" / "spool"
    os.umask(0o022)
    Spool(root, 100)
    assert stat.S_IMODE(os.stat(root).st_mode) == 0o700


def test_root_symlink_refused(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    with pytest.raises(SpoolError):
        Spool(tmp_path / "link", 100)


@pytest.mark.parametrize(
    ("compression", "encode"),
    [
        ("none", lambda d: d),
        (None, lambda d: d),
        ("gzip", gzip.compress),
        ("deflate", raw_deflate),  # RFC 1951, what CUPS sends
        ("deflate", zlib.compress),  # RFC 1950 zlib wrapper, also accepted
    ],
)
async def test_roundtrip_and_sha256(spool: Spool, compression: str, encode) -> None:  # type: ignore[no-untyped-def]
    async with spool.writer(compression) as w:
        for c in chunks(encode(DATA), 1000 if compression else 65536):
            await w.write(c)
    assert w.size == len(DATA)
    assert w.sha256 == hashlib.sha256(DATA).hexdigest()
    assert len(w.name) == 32 and w.name.isalnum()
    assert await read_back(spool, w.name) == DATA
    assert spool.digest(w.name) == (len(DATA), w.sha256)
    assert leftovers(spool) == [w.name]
    assert stat.S_IMODE(os.stat(spool.path(w.name)).st_mode) == 0o600


async def test_multi_member_gzip(spool: Spool) -> None:
    payload = gzip.compress(b"one ") + gzip.compress(b"two")
    name, _size, _ = await store(spool, payload, "gzip")
    assert await read_back(spool, name) == b"one two"


async def test_one_byte_chunks_deflate(spool: Spool) -> None:
    payload = raw_deflate(b"hello world" * 100)
    async with spool.writer("deflate") as w:
        for i in range(len(payload)):
            await w.write(payload[i : i + 1])
    assert await read_back(spool, w.name) == b"hello world" * 100


@pytest.mark.parametrize(
    ("compression", "payload"),
    [
        ("gzip", b"this is not gzip at all"),
        ("gzip", gzip.compress(DATA, mtime=0)[:-100]),  # truncated
        ("gzip", gzip.compress(b"x", mtime=0) + b"trailing garbage"),
        ("deflate", b"\xff\xff\xff\xff garbage"),
        ("deflate", raw_deflate(DATA)[: len(raw_deflate(DATA)) // 2]),
        ("deflate", b"x"),  # too short to be anything
    ],
)
async def test_bad_compressed_data(spool: Spool, compression: str, payload: bytes) -> None:
    with pytest.raises(SpoolCompressionError):
        await store(spool, payload, compression)
    assert leftovers(spool) == []


async def test_unsupported_compression(spool: Spool) -> None:
    with pytest.raises(SpoolCompressionError):
        spool.writer("compress")


async def test_limit(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s", max_bytes=100_000)
    await store(spool, b"x" * 100_000)  # exactly the limit is fine
    with pytest.raises(SpoolLimitExceeded):
        await store(spool, b"x" * 100_001)
    assert len(leftovers(spool)) == 1


async def test_decompression_bomb(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s", max_bytes=5 << 20)
    bomb = gzip.compress(b"\0" * (40 << 20), 1)  # 40 MiB of zeros in ~180 KiB
    assert len(bomb) < 1 << 20
    with pytest.raises(SpoolLimitExceeded):
        await store(spool, bomb, "gzip")
    assert leftovers(spool) == []


async def test_error_in_body_removes_temp_file(spool: Spool) -> None:
    with pytest.raises(RuntimeError):
        async with spool.writer() as w:
            await w.write(DATA)
            raise RuntimeError("client went away")
    assert leftovers(spool) == []


async def test_cancellation_removes_temp_file(spool: Spool) -> None:
    started = asyncio.Event()

    async def upload() -> None:
        async with spool.writer("gzip") as w:
            for c in chunks(gzip.compress(DATA * 4)):  # more than one batch: a file exists
                await w.write(c)
            started.set()
            await asyncio.sleep(3600)  # a client that stalls

    task = asyncio.create_task(upload())
    await started.wait()
    assert any(n.endswith(".tmp") for n in leftovers(spool))
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    for _ in range(100):  # the cleanup may wait for the worker thread in flight
        if not leftovers(spool):
            break
        await asyncio.sleep(0.01)
    assert leftovers(spool) == []


async def test_cancel_mid_write_in_thread(spool: Spool) -> None:
    """Cancel while a batch is being written by the worker thread."""
    task = asyncio.create_task(store(spool, DATA * 4))
    await asyncio.sleep(0)
    for _ in range(3):
        await asyncio.sleep(0.001)
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    for _ in range(200):
        if all(not n.endswith(".tmp") for n in leftovers(spool)):
            break
        await asyncio.sleep(0.01)
    assert all(not n.endswith(".tmp") for n in leftovers(spool))


async def test_symlink_never_followed_on_read_or_delete(spool: Spool, tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"precious")
    planted = "0123456789abcdef0123456789abcdef"
    (spool.root / planted).symlink_to(victim)
    with pytest.raises(OSError):
        await read_back(spool, planted)
    with pytest.raises(OSError):
        spool.digest(planted)
    assert spool.delete(planted) is True
    assert victim.read_bytes() == b"precious"
    assert not (spool.root / planted).is_symlink()


async def test_names_are_checked(spool: Spool) -> None:
    for bad in ("../etc/passwd", "/etc/passwd", "ABC", "", "0" * 31, ".hidden"):
        with pytest.raises(SpoolError):
            spool.path(bad)
        with pytest.raises(SpoolError):
            spool.delete(bad)


async def test_delete_and_remove_temporaries(spool: Spool) -> None:
    name, _, _ = await store(spool, b"abc")
    (spool.root / ".0123456789abcdef0123456789abcdef.tmp").write_bytes(b"partial")
    assert spool.names() == {name}
    assert spool.remove_temporaries() == 1
    assert spool.delete(name) is True
    assert spool.delete(name) is False
    assert leftovers(spool) == []


def test_remove_temporaries_keeps_young_ones_with_min_age(spool: Spool) -> None:
    # Another node sharing the spool may be writing a temp file right now (recovery's
    # min_age): only those untouched for min_age seconds go.
    old = spool.root / ".0123456789abcdef0123456789abcdef.tmp"
    young = spool.root / ".fedcba9876543210fedcba9876543210.0badcafe.tmp"
    other = spool.root / "notes.tmp"
    for path in (old, young, other):
        path.write_bytes(b"partial")
    os.utime(old, (time.time() - 120, time.time() - 120))
    assert spool.remove_temporaries(min_age=60) == 1
    assert not old.exists() and young.exists() and other.exists()
    assert spool.remove_temporaries() == 1
    assert not young.exists() and other.exists()


async def test_empty_document(spool: Spool) -> None:
    name, size, sha = await store(spool, b"")
    assert size == 0 and sha == hashlib.sha256(b"").hexdigest()
    assert await read_back(spool, name) == b""


def test_dirsync_is_shared_by_concurrent_callers(tmp_path: Path) -> None:
    sync = DirSync(tmp_path)
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda _: sync.sync(), range(400)))
    assert sync._synced == sync._requested == 400
    assert 1 <= sync.syncs <= 400


async def test_concurrent_writers(spool: Spool) -> None:
    payloads = [os.urandom(5000) for _ in range(40)]
    results = await asyncio.gather(*(store(spool, p) for p in payloads))
    for (name, size, sha), p in zip(results, payloads, strict=True):
        assert size == len(p) and sha == hashlib.sha256(p).hexdigest()
        assert await read_back(spool, name) == p
