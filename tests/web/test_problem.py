"""Problem details (RFC 9457) from ``errors_middleware`` on a real socket: each service
error maps to its status with the failing field's path, and an unexpected exception is
logged and answered as a bare 500 problem, with nothing of the exception in it."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from pydantic import BaseModel

from ippproxy.services.errors import Conflict, Forbidden, Invalid, NotFound
from ippproxy.web.problem import errors_middleware


class Strict(BaseModel):
    amount: int


async def crash(request: web.Request) -> web.Response:
    raise RuntimeError("secret: the database password is hunter2")


async def invalid(request: web.Request) -> web.Response:
    raise Invalid("rules[2].limit", "must be positive")


async def missing(request: web.Request) -> web.Response:
    raise NotFound("queue", "lab")


async def clash(request: web.Request) -> web.Response:
    raise Conflict("queue 'lab' is provisioned from the configuration file")


async def denied(request: web.Request) -> web.Response:
    raise Forbidden("write access to printers is needed")


async def unvalidated(request: web.Request) -> web.Response:
    Strict.model_validate({"amount": "lots"})
    return web.Response()


async def ipp_side(request: web.Request) -> web.Response:
    raise RuntimeError("not ours")


@pytest.fixture
async def server() -> AsyncIterator[TestServer]:
    app = web.Application(middlewares=[errors_middleware])
    for path, handler in (("/api/v1/crash", crash), ("/api/v1/invalid", invalid),
                          ("/api/v1/missing", missing), ("/api/v1/clash", clash),
                          ("/api/v1/denied", denied), ("/admin/unvalidated", unvalidated),
                          ("/printers/x", ipp_side)):
        app.router.add_get(path, handler)
    async with TestServer(app) as s:
        yield s


async def _get(server: TestServer, path: str, method: str = "GET"
               ) -> tuple[int, str, dict[str, object] | str]:
    async with aiohttp.ClientSession() as http, \
            http.request(method, server.make_url(path)) as r:
        ctype = r.headers.get("Content-Type", "")
        body = await r.json() if "json" in ctype else await r.text()
        return r.status, ctype, body


async def test_service_errors_become_problems(server: TestServer) -> None:
    status, ctype, body = await _get(server, "/api/v1/invalid")
    assert (status, ctype.split(";")[0]) == (422, "application/problem+json")
    assert isinstance(body, dict) and body["errors"] == [{"field": "rules[2].limit",
                                                         "message": "must be positive"}]
    assert {"type", "title", "status", "detail"} <= set(body)
    for path, code in (("/api/v1/missing", 404), ("/api/v1/clash", 409),
                       ("/api/v1/denied", 403), ("/api/v1/nowhere", 404)):
        status, ctype, body = await _get(server, path)
        assert status == code and ctype.startswith("application/problem+json"), path
        assert isinstance(body, dict) and body["status"] == code
    status, ctype, body = await _get(server, "/api/v1/missing", "DELETE")
    assert status == 405 and isinstance(body, dict) and body["status"] == 405
    status, _, body = await _get(server, "/admin/unvalidated")
    assert status == 422 and isinstance(body, dict)
    assert body["errors"][0]["field"] == "body.amount"  # type: ignore[index]


async def test_an_unexpected_error_is_logged_and_answered_without_its_text(
        server: TestServer, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="ippproxy.web.problem"):
        status, ctype, body = await _get(server, "/api/v1/crash")
    assert status == 500 and ctype.startswith("application/problem+json")
    assert "hunter2" not in str(body) and "Traceback" not in str(body)
    assert any("hunter2" in (r.exc_text or "") or r.exc_info for r in caplog.records)
    # Outside /api and /admin (IPP, printer pages) the middleware stays out of the way.
    status, ctype, _ = await _get(server, "/printers/x")
    assert status == 500 and not ctype.startswith("application/problem+json")
