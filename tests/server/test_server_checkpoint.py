"""The server checkpoints its SQLite log in a thread of its own (db/checkpoint.py), from
start to stop."""

from __future__ import annotations

import threading
from pathlib import Path

from aiohttp import web

from ippproxy.app import build_app

from .conftest import make_config


def _checkpointers() -> int:
    return sum(1 for t in threading.enumerate() if t.name == "sqlite-checkpoint")


async def test_the_checkpoint_thread_runs_while_the_server_does(tmp_path: Path) -> None:
    before = _checkpointers()
    runner = web.AppRunner(build_app(make_config(tmp_path)), access_log=None)
    await runner.setup()
    try:
        assert _checkpointers() == before + 1
    finally:
        await runner.cleanup()
    assert _checkpointers() == before
