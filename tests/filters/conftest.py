"""Fixtures for the filters tests: the generated corpus (once per session) and a pool."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import corpus
import pytest
import pytest_asyncio

from ippproxy.filters.pool import AnalysisPool


@pytest.fixture(scope="session")
def corpus_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("corpus")


@pytest.fixture(scope="session")
def cases(corpus_dir: Path) -> dict[str, corpus.Case]:
    return {c.name: c for c in corpus.build(corpus_dir)}


@pytest_asyncio.fixture
async def pool() -> AsyncIterator[AnalysisPool]:
    async with AnalysisPool(2, queue_size=4, cpu_seconds=3, memory_bytes=1 << 30,
                            wall_seconds=20) as p:
        yield p
