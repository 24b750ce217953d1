"""A real ``ippproxy serve`` with accounting on, on SQLite and on a throwaway PostgreSQL
(one server per module and database), and an admin logged in."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.postgres import PostgresCluster, postgres_cluster  # noqa: F401
from support.server import IppProxy
from support.webapi import Client, first_password, login, start_server


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def proxy(request: pytest.FixtureRequest,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[IppProxy]:
    database = None
    cluster: PostgresCluster | None = None
    if request.param == "postgresql":
        cluster = request.getfixturevalue("postgres_cluster")
        database = cluster.create_database()
    p = start_server(tmp_path_factory.mktemp("web"), database)
    try:
        yield p
    finally:
        p.stop()
        if cluster is not None and database is not None:
            cluster.drop_database(database)


@pytest.fixture(scope="module")
def base(proxy: IppProxy) -> str:
    return proxy.https


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
