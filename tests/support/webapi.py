"""HTTP clients of the admin side of a real ``ippproxy serve`` (tests/web, tests/services).

Requests go over real sockets with ``requests``, over HTTPS (plain HTTP is redirected),
trusting exactly the certificate the server generated (``trust``). ``Client`` sends the
session cookie by hand, as a browser does.
"""

from __future__ import annotations

import re
import subprocess
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from support.cmd import run_cmd
from support.server import IppProxy

ACCOUNTING = """
[accounting]
enabled = true
unknown_users = "create"
[[group]]
name = "finance-team"
"""


# The certificate each started server's base URL is verified against.
_TRUST: dict[str, str] = {}


def trust(base: str) -> str:
    """``verify=`` for ``requests`` calls to ``base``: the server's own certificate."""
    return _TRUST[base]


def remember_certificate(proxy: IppProxy) -> None:
    """Trust ``proxy``'s generated certificate for calls to its base URL (a server
    started here, not by ``start_server``)."""
    _TRUST[proxy.https] = str(proxy.cert)


def start_server(directory: Path, database: str | None = None) -> IppProxy:
    """A server with accounting on, on SQLite in ``directory`` or on ``database``."""
    proxy = IppProxy(directory, queues=[{"name": "office"}, {"name": "lab"}])
    text = proxy.config_path.read_text()
    if database is not None:
        sqlite = f'database = "sqlite:///{proxy.directory / "ippproxy.db"}"'
        assert sqlite in text
        text = text.replace(sqlite, f'database = "{database}"')
    proxy.config_path.write_text(text + ACCOUNTING)
    proxy.start()
    _TRUST[proxy.https] = str(proxy.cert)
    return proxy


def register(proxy: IppProxy) -> IppProxy:
    """Trust ``proxy``'s own certificate for requests to its base URL (a started server)."""
    _TRUST[proxy.https] = str(proxy.cert)
    return proxy


def database_of(proxy: IppProxy) -> str:
    with proxy.config_path.open("rb") as f:
        return str(tomllib.load(f)["storage"]["database"])


def first_password(proxy: IppProxy) -> str:
    found = re.findall(r"the admin password is (\S+)", proxy.log())
    assert len(found) == 1, found
    return found[0]


class FromAddress(HTTPAdapter):
    """Connections made from one local address: another loopback address (127.0.0.2) is
    another computer to the server, whose peer address it is."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args: Any, **kw: Any) -> None:
        kw["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kw)


def from_address(address: str) -> requests.Session:
    """A ``requests`` session whose connections come from ``address``."""
    session = requests.Session()
    for scheme in ("https://", "http://"):
        session.mount(scheme, FromAddress(address))
    return session


@dataclass
class Client:
    base: str
    cookie: str | None = None
    csrf: str | None = None
    token: str | None = None
    session: requests.Session | None = None    # None: from 127.0.0.1

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        h: dict[str, str] = {}
        if self.cookie:
            h["Cookie"] = f"ippproxy_session={self.cookie}"
        if self.csrf:
            h["X-CSRF-Token"] = self.csrf
        if self.token:
            h["Authorization"] = f"Bearer {self.token}"
        h.update(extra or {})
        return h

    def request(self, method: str, path: str, *, headers: dict[str, str] | None = None,
                **kw: Any) -> requests.Response:
        send = self.session.request if self.session is not None else requests.request
        return send(method, self.base + path, headers=self.headers(headers),
                    allow_redirects=False, timeout=30, verify=trust(self.base), **kw)

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> requests.Response:
        return self.request("POST", path, **kw)


def login(base: str, name: str, password: str, session: requests.Session | None = None
          ) -> Client:
    post = session.post if session is not None else requests.post
    r = post(base + "/api/v1/session", json={"username": name, "password": password},
             timeout=30, verify=trust(base))
    assert r.status_code == 201, r.text
    cookie = re.search(r"ippproxy_session=([^;]+)", r.headers["Set-Cookie"])
    assert cookie is not None
    return Client(base, cookie=cookie.group(1), csrf=r.json()["csrf_token"], session=session)


def cmd(proxy: IppProxy, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """The real ``ippproxy cmd`` on the server's database."""
    database = database_of(proxy)
    if args[0] == "set-password":
        return run_cmd([*args, "--database", database], stdin=stdin)
    return run_cmd(["--database", database, *args], stdin=stdin)


def form_login(base: str, name: str, password: str) -> Client:
    """Log in as a browser does: the login page's form (``POST /admin/login``), then the
    session's CSRF token as the pages carry it (read here from ``GET /api/v1/session``)."""
    r = requests.post(base + "/admin/login", data={"username": name, "password": password},
                      headers={"Accept": "text/html"}, allow_redirects=False, timeout=30,
                      verify=trust(base))
    assert r.status_code == 303, (r.status_code, r.text[:300])
    cookie = re.search(r"ippproxy_session=([^;]+)", r.headers["Set-Cookie"])
    assert cookie is not None
    client = Client(base, cookie=cookie.group(1))
    me = client.get("/api/v1/session")
    assert me.status_code == 200, me.text
    client.csrf = me.json()["csrf_token"]
    return client
