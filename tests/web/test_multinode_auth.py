"""Two nodes on one PostgreSQL share the admin side: the master password is created (and
printed) by one of them only, a session opened on one is valid on the other and ends on
both, the login rate limit counts failures on every node, and a token revoked on one is
refused by the other."""

from __future__ import annotations

import re
from pathlib import Path

import requests
from support.postgres import PostgresCluster
from support.webapi import Client, first_password, login, start_server, trust


def test_two_nodes_share_sessions_tokens_and_the_rate_limit(
        postgres_cluster: PostgresCluster, tmp_path: Path) -> None:
    database = postgres_cluster.create_database()
    one = start_server(tmp_path / "one", database)
    two = None
    try:
        two = start_server(tmp_path / "two", database)
        password = first_password(one)
        assert re.search(r"admin password is", two.log()) is None
        base1, base2 = one.https, two.https
        on_one = login(base1, "admin", password)
        on_two = Client(base2, cookie=on_one.cookie, csrf=on_one.csrf)
        assert on_two.get("/api/v1/session").json()["name"] == "admin"
        token = on_two.post("/api/v1/tokens", json={"name": "n2", "access": "read",
                                                    "sections": ["printers"]}).json()
        assert Client(base1, token=token["token"]).get("/api/v1/jobs").status_code == 200
        assert on_one.request("DELETE", f"/api/v1/tokens/{token['id']}").status_code == 200
        assert Client(base2, token=token["token"]).get("/api/v1/jobs").status_code == 401
        assert on_two.request("DELETE", "/api/v1/session").status_code == 204
        assert on_one.get("/api/v1/session").status_code == 401
        # Failures on both nodes add up.
        for base in (base1, base2, base1, base2, base1):
            r = requests.post(verify=trust(base), url=base + "/api/v1/session",
                              json={"username": "admin", "password": "guess"}, timeout=30)
            assert r.status_code == 401
        r = requests.post(verify=trust(base2), url=base2 + "/api/v1/session",
                          json={"username": "admin", "password": password}, timeout=30)
        assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    finally:
        if two is not None:
            two.stop()
        one.stop()
        postgres_cluster.drop_database(database)
