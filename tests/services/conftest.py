"""Fixtures: the services on a migrated database (SQLite and a throwaway PostgreSQL), with
the real job store and catalog, no HTTP; and actors with and without rights."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from support.postgres import db_url, pg_url, postgres_cluster  # noqa: F401

from ippproxy.catalog import Catalog
from ippproxy.config import Config, from_dict
from ippproxy.db import make_engine, upgrade
from ippproxy.jobs.records import NewDocument
from ippproxy.jobs.spool import Spool
from ippproxy.jobs.store import JobStore
from ippproxy.services.actor import Access, Actor, Section, Via

ADMIN = Actor.system(name="alice", via=Via.SESSION)
# A printers operator who may look at finance but change nothing there.
OPERATOR = Actor("olga", Via.TOKEN, rights=((Section.PRINTERS, Access.WRITE),
                                            (Section.FINANCE, Access.READ)))
NOBODY = Actor("mallory", Via.SESSION)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:  # noqa: F811
    eng = make_engine(db_url)
    upgrade(eng)
    try:
        yield eng
    finally:
        eng.dispose()


@pytest.fixture
def catalog(engine: Engine) -> Catalog:
    return Catalog(engine)


@pytest.fixture
async def store(engine: Engine) -> AsyncIterator[JobStore]:
    async with JobStore(engine) as s:
        yield s


@pytest.fixture
def config() -> Config:
    return from_dict({"accounting": {"enabled": True}})


@pytest.fixture
def spool(tmp_path: Path) -> Spool:
    return Spool(tmp_path / "spool", max_bytes=10 << 20)


async def add_job(store: JobStore, spool: Spool, queue: str, **kw: object) -> str:
    """A pending job on ``queue`` with a real spooled document; its UUID."""
    async with spool.writer() as w:
        await w.write(b"%PDF-1.7 test")
    doc = NewDocument(spool_name=w.name, size=w.size, sha256=w.sha256, format="application/pdf")
    job = await store.create_job(queue, owner="student", documents=(doc,), closed=True,
                                 **kw)  # type: ignore[arg-type]
    return job.uuid
