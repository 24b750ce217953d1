"""Logging in (``POST /api/v1/session``) and the TLS context that checks the server.

The second factor, by HTTP contract: when the server answers the login with 401 and a
problem whose ``type`` ends in ``/second-factor-needed``, the client asks the user for the
code of their authenticator app (TOTP, RFC 6238) and sends the same login again with
``"code": "<code>"``. Any other 401 is a wrong name or password; 429 is the server's login
throttle (its ``Retry-After`` is shown)."""

from __future__ import annotations

import json
import ssl
from collections.abc import Awaitable, Callable
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import aiohttp

from ippproxy.client.errors import ClientFailure
from ippproxy.client.store import Saved

SESSION_PATH = "/api/v1/session"
COOKIE = "ippproxy_session"
SECOND_FACTOR = "/second-factor-needed"
AskCode = Callable[[], Awaitable[str | None]]


def tls_context(cafile: Path | None) -> ssl.SSLContext:
    """The server's certificate is always checked (name and chain): against ``cafile``
    when given (a private CA, or the server's self-signed certificate), else against the
    system's trusted CAs."""
    ctx = ssl.create_default_context(cafile=str(cafile) if cafile else None)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


def problem_detail(status: int, text: str) -> tuple[str, str]:
    """(type, detail) of an RFC 9457 problem answer; the text itself when it is not one."""
    try:
        body: Any = json.loads(text)
    except ValueError:
        return "", text.strip()[:300] or f"HTTP {status}"
    if not isinstance(body, dict):
        return "", f"HTTP {status}"
    return str(body.get("type", "")), str(body.get("detail") or body.get("title")
                                          or f"HTTP {status}")


def _session_cookie(response: aiohttp.ClientResponse) -> str | None:
    for header in response.headers.getall("Set-Cookie", []):
        jar: SimpleCookie = SimpleCookie()
        jar.load(header)
        if COOKIE in jar and jar[COOKIE].value:
            return jar[COOKIE].value
    return None


async def log_in(http: aiohttp.ClientSession, base: str, user: str, password: str,
                 ask_code: AskCode) -> Saved:
    body: dict[str, str] = {"username": user, "password": password}
    for _ in range(2):
        async with http.post(base + SESSION_PATH, json=body) as r:
            text = await r.text()
            if r.status == 201:
                sid = _session_cookie(r)
                csrf = json.loads(text).get("csrf_token")
                if not sid or not isinstance(csrf, str):
                    raise ClientFailure("the server's login answer has no session")
                return Saved(base, user, sid, csrf)
            kind, detail = problem_detail(r.status, text)
            if r.status == 401 and kind.endswith(SECOND_FACTOR) and "code" not in body:
                code = await ask_code()
                if not code:
                    raise ClientFailure(f"login: {detail} (no code given)")
                body["code"] = code.strip()
                continue
            if r.status == 429:
                detail += f" (retry after {r.headers.get('Retry-After', '?')} s)"
            raise ClientFailure(f"login as {user} failed: {detail}")
    raise ClientFailure(f"login as {user} failed: the second factor was not accepted")
