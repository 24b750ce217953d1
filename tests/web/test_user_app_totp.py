"""Two-step sign-in (TOTP) through the user web app against the real ``ippproxy serve``:
set up with the QR code's secret, confirmed with a code; then every login asks for the
code, on the user app's form, the admin login form and the REST login alike (no way
around it); turned off with a code."""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import aiohttp
import pytest
import requests
from support.server import tracebacks
from support.totp import Authenticator
from support.webapi import Client, trust

from ippproxy.client.login import log_in, tls_context
from ippproxy.client.store import Saved

from .userapp_env import PASSWORDS, UserEnv, page_login, start, user_client


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, pdf: Path) -> Iterator[UserEnv]:
    e = start(tmp_path_factory.mktemp("usertotp"), pdf)
    try:
        yield e
        assert tracebacks(e.proxy.log()) == []
    finally:
        e.proxy.stop()


def _secret(page: str) -> str:
    found = re.search(r'id="totp-secret" class="url" readonly value="([A-Z2-7]+)"', page)
    assert found is not None, page[:2000]
    return found.group(1)


async def _client_login(base: str, code: Callable[[], str]) -> Saved:
    async def ask() -> str:
        return code()
    connector = aiohttp.TCPConnector(ssl=tls_context(Path(trust(base))))
    async with aiohttp.ClientSession(connector=connector) as http:
        return await log_in(http, base, "alice", PASSWORDS["alice"], ask)


def test_set_up_required_at_every_login_and_turned_off(env: UserEnv) -> None:
    base = env.proxy.https
    alice = user_client(base, "alice")
    assert 'id="totp-off"' in alice.get("/user/security").text
    no_csrf = Client(base, cookie=alice.cookie).post("/user/security/begin", data={})
    assert no_csrf.status_code == 403
    r = alice.post("/user/security/begin", data={"csrf_token": alice.csrf})
    assert r.status_code == 303
    page = alice.get("/user/security").text
    secret = _secret(page)
    assert '<svg role="img" aria-labelledby="totp-qr-t"' in page
    assert html.escape(f"otpauth://totp/ippproxy:alice?secret={secret}") in page
    app = Authenticator(secret)
    wrong = alice.post("/user/security/confirm", data={"csrf_token": alice.csrf,
                                                       "code": "12345x"})
    assert wrong.status_code == 422 and 'id="totp-error"' in wrong.text
    ok = alice.post("/user/security/confirm", data={"csrf_token": alice.csrf,
                                                    "code": app.code()})
    assert ok.status_code == 303 and 'id="totp-on"' in alice.get("/user/security").text

    # From now on the password alone signs in nowhere (four failures: under the limit).
    assert page_login(base, "alice", PASSWORDS["alice"]).status_code == 401
    assert page_login(base, "alice", PASSWORDS["alice"], app.wrong()).status_code == 401
    api = requests.post(base + "/api/v1/session", json={
        "username": "alice", "password": PASSWORDS["alice"]}, timeout=30, verify=trust(base))
    assert api.status_code == 401 and "Set-Cookie" not in api.headers
    # The right password without a code is told so (ippproxy-client then asks for it).
    assert api.json()["type"].endswith("/second-factor-needed")
    admin_form = requests.post(base + "/admin/login", data={
        "username": "alice", "password": PASSWORDS["alice"]}, allow_redirects=False,
        timeout=30, verify=trust(base))
    assert admin_form.status_code == 401
    # With the code it does (a code used twice: tests/services/test_totp.py): here as
    # ippproxy-client logs in, asked for the code by the second-factor-needed answer.
    asked: list[str] = []
    saved = asyncio.run(_client_login(base, lambda: asked.append("code") or app.code()))
    assert asked == ["code"]
    again = Client(base, cookie=saved.session, csrf=saved.csrf)
    assert again.get("/api/v1/session").json()["name"] == "alice"

    # Off only with a current code; then the password alone works again.
    refused = again.post("/user/security/disable", data={"csrf_token": again.csrf,
                                                         "code": "abc"})
    assert refused.status_code == 422 and 'id="totp-on"' in refused.text
    off = again.post("/user/security/disable", data={"csrf_token": again.csrf,
                                                     "code": app.code()})
    assert off.status_code == 303
    assert 'id="totp-off"' in again.get("/user/security").text
    user_client(base, "alice")
    # bob never had it: his login never asked.
    user_client(base, "bob")
