"""The trap documents, built once per session (traps.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import traps


@pytest.fixture(scope="session")
def trap_docs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, traps.Trap]:
    return traps.build(Path(tmp_path_factory.mktemp("traps")))
