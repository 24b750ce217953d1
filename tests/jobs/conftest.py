"""Fixtures for the job store tests: a real SQLite database (WAL) and spool in tmp_path."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine

from ippproxy.db import make_engine, upgrade
from ippproxy.jobs.records import NewDocument
from ippproxy.jobs.spool import Spool
from ippproxy.jobs.store import JobStore


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'db' / 'jobs.sqlite'}"


@pytest.fixture
def engine(db_url: str) -> Engine:
    eng = make_engine(db_url)
    upgrade(eng)
    return eng


@pytest.fixture
async def store(engine: Engine) -> AsyncIterator[JobStore]:
    async with JobStore(engine) as s:
        yield s


@pytest.fixture
def spool(tmp_path: Path) -> Spool:
    return Spool(tmp_path / "spool", max_bytes=10 << 20)


MakeDoc = Callable[..., Awaitable[NewDocument]]


@pytest.fixture
def make_doc(spool: Spool) -> MakeDoc:
    """``await make_doc(b"bytes")``: spool a document and describe it for the store."""

    async def make(data: bytes = b"%PDF-1.7 test", fmt: str = "application/pdf") -> NewDocument:
        async with spool.writer() as w:
            await w.write(data)
        return NewDocument(spool_name=w.name, size=w.size, sha256=w.sha256, format=fmt)

    return make
