"""Proving an admin to a test server as a real client does: the master admin's password
(set as ``ippproxy cmd set-password admin`` does) sent with HTTP Basic over TLS, on a TLS
site of the same app (its self-signed certificate, server/tls.py)."""

from __future__ import annotations

import asyncio
import base64

from aiohttp import web

from ippproxy.config import Config
from ippproxy.db import make_engine
from ippproxy.server.tls import ensure_certificate, server_context
from ippproxy.services.actor import Access, Actor, Section, Via
from ippproxy.services.admins import MASTER_NAME, Admins
from ippproxy.services.auditsink import LogAudit
from ippproxy.services.tokens import Tokens

ADMIN_PASSWORD = "correct horse battery staple"


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


async def start_tls_site(runner: web.AppRunner, config: Config, port: int) -> None:
    cert = await asyncio.to_thread(ensure_certificate, config)
    await web.TCPSite(runner, config.server.listen, port,
                      ssl_context=server_context(cert)).start()


def _set_master(config: Config, password: str) -> None:
    engine = make_engine(config.storage.database)
    try:
        Admins(engine, LogAudit()).set_master_password(
            Actor.system("tests", Via.COMMAND), password)
    finally:
        engine.dispose()


async def master_authorization(config: Config, password: str = ADMIN_PASSWORD) -> str:
    """Set the master admin's password in the server's database; its Basic header."""
    await asyncio.to_thread(_set_master, config, password)
    return basic(MASTER_NAME, password)


def _token(config: Config, access: Access, sections: tuple[Section, ...]) -> str:
    engine = make_engine(config.storage.database)
    try:
        _, secret = Tokens(engine, LogAudit()).create(
            Actor.system("tests", Via.COMMAND), "tests", access, sections)
        return secret
    finally:
        engine.dispose()


async def bearer(config: Config, access: Access = Access.WRITE,
                 sections: tuple[Section, ...] = (Section.PRINTERS,)) -> str:
    """An API token made in the server's database; its Bearer header."""
    return "Bearer " + await asyncio.to_thread(_token, config, access, sections)
