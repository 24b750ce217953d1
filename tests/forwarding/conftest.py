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
