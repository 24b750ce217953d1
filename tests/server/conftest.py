"""Fixtures: a real ippproxy app (build_app) on a free port, with its database and spool
in tmp_path, forwarding to the built-in virtual printer; an IPP client on the codec."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from support.admin import start_tls_site

from ippproxy.app import build_app
from ippproxy.config import (
    Config,
    ForwardingConfig,
    QueueConfig,
    ServerConfig,
    StorageConfig,
    VirtualPrinterConfig,
)
from ippproxy.policies import Policy
from testprinters.ports import free_port

from .client import Ipp

# testprinters.pytest_plugin is registered by the root conftest (tests/conftest.py).


def make_config(tmp: Path, queues: tuple[QueueConfig, ...] = (QueueConfig("default"),),
                **server: Any) -> Config:
    return Config(
        server=ServerConfig(listen="127.0.0.1", port=free_port(), **server),
        storage=StorageConfig(database=f"sqlite:///{tmp}/ippproxy.db", spool=str(tmp / "spool")),
        forwarding=ForwardingConfig(retry_initial=0.2, retry_max=1.0, poll_interval=0.1,
                                    connect_timeout=2.0),
        virtual_printer=VirtualPrinterConfig(listen="127.0.0.1", port=free_port()),
        queues=queues)


Started = Callable[..., Awaitable[Ipp]]


@pytest_asyncio.fixture
async def start_proxy(tmp_path: Path) -> AsyncIterator[Started]:
    """``await start_proxy(config=None, policies=(), **server_overrides) -> Ipp``."""
    runners: list[web.AppRunner] = []
    sessions: list[aiohttp.ClientSession] = []

    async def start(config: Config | None = None, policies: tuple[Policy, ...] = (),
                    **server: Any) -> Ipp:
        cfg = config or make_config(tmp_path, **server)
        runner = web.AppRunner(build_app(cfg, policies=policies), access_log=None)
        await runner.setup()
        runners.append(runner)
        site = web.TCPSite(runner, cfg.server.listen, cfg.server.port)
        await site.start()
        tls_port = free_port()  # the same app over TLS, for credentials (tests/support/admin)
        await start_tls_site(runner, cfg, tls_port)
        session = aiohttp.ClientSession()
        sessions.append(session)
        auth = f"{cfg.server.listen}:{cfg.server.port}"
        return Ipp(session, f"http://{auth}", auth, cfg.queues[0].name,
                   tls_base=f"https://{cfg.server.listen}:{tls_port}", config=cfg)

    yield start
    for s in sessions:
        await s.close()
    for r in reversed(runners):
        await r.cleanup()


@pytest_asyncio.fixture
async def ipp(start_proxy: Started) -> Ipp:
    return await start_proxy()


@pytest.fixture
def pdf() -> bytes:
    return (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
            b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
            b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
            b"trailer<</Root 1 0 R>>\n%%EOF\n")
