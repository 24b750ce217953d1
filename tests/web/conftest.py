"""A real ``ippproxy serve`` with accounting on (one per module), and an admin logged in."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.server import IppProxy
from support.webapi import Client, first_password, login, start_server


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IppProxy]:
    p = start_server(tmp_path_factory.mktemp("web"))
    try:
        yield p
    finally:
        p.stop()


@pytest.fixture(scope="module")
def base(proxy: IppProxy) -> str:
    return f"http://{proxy.authority}"


@pytest.fixture(scope="module")
def admin(proxy: IppProxy, base: str) -> Client:
    return login(base, "admin", first_password(proxy))


@pytest.fixture(scope="module")
def write_token(admin: Client) -> str:
    r = admin.post("/api/v1/tokens", json={"name": "suite", "access": "write",
                                           "sections": ["users", "finance", "printers",
                                                        "options", "audit"]})
    assert r.status_code == 201, r.text
    return str(r.json()["token"])
