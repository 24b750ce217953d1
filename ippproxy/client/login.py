"""Logging in (``POST /api/v1/session``, or as the desktop user ``POST
/api/v1/session/desktop`` over the server's local socket) and the TLS context that checks
the server.

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
DESKTOP_PATH = "/api/v1/session/desktop"
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
    return await _session(http, base, SESSION_PATH, {"username": user, "password": password},
                          user, ask_code)


async def log_in_desktop(http: aiohttp.ClientSession, base: str, ask_code: AskCode) -> Saved:
    """The desktop login (``POST /api/v1/session/desktop``) over the server's local socket:
    the server names the user from this process's uid, no password is sent; the answer
    says who that is."""
    return await _session(http, base, DESKTOP_PATH, {}, None, ask_code)


async def _session(http: aiohttp.ClientSession, base: str, path: str, body: dict[str, str],
                   user: str | None, ask_code: AskCode) -> Saved:
    """The session of a login (``user`` as given; None: the name the server answers)."""
    what = "desktop login" if user is None else f"login as {user}"
    for _ in range(2):
        async with http.post(base + path, json=body) as r:
            text = await r.text()
            if r.status == 201:
                sid = _session_cookie(r)
                answer = json.loads(text)
                csrf, name = answer.get("csrf_token"), answer.get("name")
                if not sid or not isinstance(csrf, str) or not isinstance(name, str):
                    raise ClientFailure("the server's login answer has no session")
                return Saved(base, user or name, sid, csrf)
            kind, detail = problem_detail(r.status, text)
            if r.status == 401 and kind.endswith(SECOND_FACTOR) and "code" not in body:
                code = await ask_code()
                if not code:
                    raise ClientFailure(f"{what}: {detail} (no code given)")
                body["code"] = code.strip()
                continue
            if r.status == 429:
                detail += f" (retry after {r.headers.get('Retry-After', '?')} s)"
            raise ClientFailure(f"{what} failed: {detail}")
    raise ClientFailure(f"{what} failed: the second factor was not accepted")
