"""Fixtures: a migrated engine on SQLite and on a throwaway PostgreSQL cluster, and the
catalog on it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from support.postgres import db_url, pg_url, postgres_cluster  # noqa: F401

from ippproxy.catalog import Catalog
from ippproxy.db import make_engine, upgrade


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
