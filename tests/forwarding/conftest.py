"""Fixtures for forwarding tests: real printers (ippeveprinter, the virtual printer)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio

from testprinters.documents import make_pdf
from testprinters.pytest_plugin import (  # noqa: F401  (fixtures, until the root conftest has them)
    ippeveprinter,
    ippeveprinter_session,
    private_cupsd,
    private_dbus,
    virtual_printer,
)


@pytest_asyncio.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
def pdf3(tmp_path: Path) -> Path:
    return make_pdf(tmp_path / "three.pdf", 3)


# -- job store, spool and a Forwarder wired to them (real SQLite, real spool) ----------------

from collections.abc import Awaitable, Callable

from sqlalchemy import Engine

from ippproxy.config import Config, ForwardingConfig, QueueConfig
from ippproxy.db import make_engine, upgrade
from ippproxy.ipp import Attribute, Group, Message, Tag, encode
from ippproxy.jobs.records import JobRecord, NewDocument
from ippproxy.jobs.spool import Spool
from ippproxy.jobs.store import JobStore


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    eng = make_engine(f"sqlite:///{tmp_path / 'db' / 'jobs.sqlite'}")
    upgrade(eng)
    return eng


@pytest_asyncio.fixture
async def store(engine: Engine) -> AsyncIterator[JobStore]:
    async with JobStore(engine) as s:
        yield s


@pytest.fixture
def spool(tmp_path: Path) -> Spool:
    return Spool(tmp_path / "spool", max_bytes=100 << 20)


def _fast_config(destination: str, **queue: object) -> Config:
    return Config(forwarding=ForwardingConfig(retry_initial=0.05, retry_max=0.2,
                                              poll_interval=0.02, attributes_ttl=60.0,
                                              connect_timeout=2.0),
                  queues=(QueueConfig(name="q", destination=destination, **queue),))  # type: ignore[arg-type]


@pytest.fixture
def fast_config() -> Callable[..., Config]:
    """``fast_config(uri, force_print_job=...)``: queue q -> uri, short retry and poll times."""
    return _fast_config


SubmitJob = Callable[..., Awaitable[JobRecord]]


@pytest.fixture
def submit_job(store: JobStore, spool: Spool, pdf3: Path) -> SubmitJob:
    """``await submit_job(copies=2)``: spool pdf3 and store a pending job on queue q."""

    async def submit(*attrs: Attribute, name: str = "report.pdf") -> JobRecord:
        async with spool.writer() as w:
            await w.write(pdf3.read_bytes())
        doc = NewDocument(spool_name=w.name, size=w.size, sha256=w.sha256,
                          format="application/pdf")
        blob = encode(Message((2, 0), 0, 1, (Group(Tag.JOB_ATTRIBUTES, attrs),)))
        return await store.create_job("q", owner="alice", name=name, attributes=blob,
                                      document_format="application/pdf", documents=[doc])

    return submit
