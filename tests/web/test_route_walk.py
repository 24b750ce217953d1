"""The route walk: every route the real application registers under ``/api``, ``/admin``
and ``/user`` is tried against the real server without credentials (401), with a plain
user's session (403 where admin rights are needed), and with a read-only token (403 for
every change); path tricks (``..``, ``%2e%2e``, ``//``, case, backslashes) reach nothing
(PaperCut CVE-2023-27350, CVE-2023-27351 and CVE-2023-39143 are the classes ruled out).

The routes come from ``build_app``'s router, not from a list in this file, so a route added
later is walked without editing the test; the public ones must be named here on purpose.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import requests
from support.server import IppProxy, tracebacks
from support.webapi import Client, cmd, login

from ippproxy.app import build_app
from ippproxy.config import Config
from ippproxy.web.api import PREFIX
from ippproxy.web.identity import PUBLIC
from ippproxy.web.routes import OPERATIONS

# Routes open to anyone, on purpose (CVE-2023-27350: no setup or bootstrap route stays open).
PUBLIC_ROUTES = {("POST", "/api/v1/session"), ("POST", "/admin/login"),
                 # the desktop login: the local socket's peer is the credential (403 here)
                 ("POST", "/api/v1/session/desktop"),
                 ("GET", "/admin/login"), ("HEAD", "/admin/login"),
                 # the pages' CSS and scripts, only the files listed by name (pages/routes.py)
                 ("GET", "/admin/static/{name}"), ("HEAD", "/admin/static/{name}"),
                 ("GET", "/api/v1/openapi.json"), ("HEAD", "/api/v1/openapi.json"),
                 # the user web app's sign-in page (web/pages/user/login.py)
                 ("GET", "/user/login"), ("HEAD", "/user/login"), ("POST", "/user/login")}
# CUPS tools post IPP to /admin (server/http.py answers with its own authentication).
IPP_ROUTES = {("POST", "/admin"), ("POST", "/admin/")}
# Routes a user without admin rights may use (their own session).
USER_ROUTES = {("GET", "/api/v1/session"), ("HEAD", "/api/v1/session"),
               ("DELETE", "/api/v1/session"), ("POST", "/admin/logout"),
               ("GET", "/api/v1/me/printer-urls"), ("HEAD", "/api/v1/me/printer-urls"),
               ("GET", "/api/v1/me/jobs"), ("HEAD", "/api/v1/me/jobs"),
               ("GET", "/api/v1/me/accounts"), ("HEAD", "/api/v1/me/accounts"),
               # the user web app's pages (web/pages/user/): each shows the user's own
               *((m, p) for p in ("/user", "/user/", "/user/jobs", "/user/transactions",
                                  "/user/printers", "/user/security", "/user/client")
                 for m in ("GET", "HEAD")),

               ("GET", "/api/v1/me/held"), ("HEAD", "/api/v1/me/held"),
               ("GET", "/api/v1/me/approvals"), ("HEAD", "/api/v1/me/approvals")}
# A user's own objects: an empty body is invalid (422), a made-up id nobody's (404), never
# a right refused.
USER_OWN_ROUTES = {("POST", "/api/v1/me/printer-urls"),
                   ("DELETE", "/api/v1/me/printer-urls/{id}"),
                   ("POST", "/api/v1/me/jobs/{uuid}/account"),
                   ("POST", "/api/v1/me/jobs/{uuid}/confirm"),
                   ("GET", "/api/v1/me/jobs/{uuid}/release-to"),
                   ("HEAD", "/api/v1/me/jobs/{uuid}/release-to"),
                   ("POST", "/api/v1/me/jobs/{uuid}/release-to"),
                   ("POST", "/user/jobs/{uuid}/{action}"), ("POST", "/user/printers"),
                   ("POST", "/user/printers/{id}/revoke"),
                   ("POST", "/user/security/{action}"),
                   ("GET", "/user/client/{filename}"), ("HEAD", "/user/client/{filename}"),

                   ("POST", "/api/v1/me/jobs/{uuid}/identity"),

                   ("POST", "/api/v1/me/jobs/{uuid}/release"),
                   ("POST", "/api/v1/me/jobs/{uuid}/cancel")}
# A user's own event stream: it stays open, so it is opened, checked and closed.
STREAMS = {("GET", "/api/v1/me/events"), ("HEAD", "/api/v1/me/events")}
LOGOUTS = {("DELETE", "/api/v1/session"), ("POST", "/admin/logout"), ("POST", "/user/logout")}
# A logged-in user's own account: allowed, so an empty body is refused by validation (422)
OWN_ROUTES = {("POST", "/api/v1/session/password")}
FILL = {"uuid": str(uuid.uuid4()), "id": str(uuid.uuid4()), "name": "alice",
        "filename": "nothing.whl",
        "key": "accounting.unknown_users", "part": "settings", "token": "t" * 24}
WRITES = {(op.method, PREFIX + op.path) for op in OPERATIONS if op.access.name == "WRITE"
          and op.section is not None}


def web_routes() -> list[tuple[str, str, bool]]:
    """(method, canonical path, marked public) of every route of the web side."""
    app = build_app(Config())
    out = []
    for route in app.router.routes():
        canonical = route.resource.canonical if route.resource is not None else ""
        low = canonical.lower()
        if low.startswith(("/api", "/admin", "/user", "/cashier")):
            out.append((route.method, canonical, bool(getattr(route.handler, PUBLIC, False))))
    return sorted(set(out))


ROUTES = web_routes()


# Routes whose last segment is one of some verbs: one of them, so the route is reached.
ACTIONS = {"/admin/jobs/{uuid}/{action}": "cancel", "/admin/printers/{name}/{action}": "pause",
           "/user/jobs/{uuid}/{action}": "cancel", "/user/security/{action}": "confirm"}


def concrete(path: str) -> str:
    path = path.replace("{action}", ACTIONS.get(path, "{action}"))
    for name, value in FILL.items():
        path = path.replace("{" + name + "}", value)
    return path


def send(client: Client, method: str, path: str) -> requests.Response:
    kwargs = {"json": {}} if method in ("POST", "PUT", "PATCH") else {}
    return client.request(method, concrete(path), **kwargs)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def plain_user(proxy: IppProxy, base: str) -> Client:
    done = cmd(proxy, "add-internal-user", "dave", "--password-file", "-",
               stdin="dave-secret-22\n")
    assert done.returncode == 0, done.stderr
    return login(base, "dave", "dave-secret-22")


@pytest.fixture(scope="module")
def read_token(admin: Client) -> Iterator[str]:
    r = admin.post("/api/v1/tokens", json={"name": "reader", "access": "read",
                                           "sections": ["users", "finance", "printers",
                                                        "options", "audit"]})
    assert r.status_code == 201
    yield r.json()["token"]


def test_the_walk_sees_the_routes_and_only_the_named_ones_are_public() -> None:
    methods_paths = {(m, p) for m, p, _ in ROUTES}
    assert {(op.method, PREFIX + op.path) for op in OPERATIONS} <= methods_paths
    assert {(m, p) for m, p, public in ROUTES if public} == PUBLIC_ROUTES
    assert WRITES, "no write operation: the read-only token check would prove nothing"


@pytest.mark.parametrize(("method", "path"), [(m, p) for m, p, public in ROUTES
                                              if not public])
def test_without_credentials_every_route_answers_401(method: str, path: str,
                                                     base: str) -> None:
    r = send(Client(base), method, path)
    assert r.status_code == 401, (method, path, r.status_code, r.text[:200])
    if method != "HEAD":
        assert r.headers["Content-Type"].startswith("application/problem+json")


def test_a_plain_user_gets_403_where_admin_is_needed(plain_user: Client, base: str,
                                                     proxy: IppProxy) -> None:
    checked = 0
    for method, path, public in ROUTES:
        if public or (method, path) in LOGOUTS:
            continue
        if (method, path) in STREAMS:
            r = plain_user.request(method, path, stream=True)
            assert r.status_code == 200, (method, path, r.status_code)
            assert r.headers["Content-Type"].startswith("text/event-stream")
            r.close()
            continue
        r = send(plain_user, method, path)
        if (method, path) in USER_ROUTES:
            assert r.status_code < 400, (method, path, r.status_code)
        elif (method, path) in OWN_ROUTES:
            assert r.status_code == 422, (method, path, r.status_code, r.text[:200])
        elif (method, path) in USER_OWN_ROUTES:
            assert r.status_code in (404, 422), (method, path, r.status_code)
        elif (method, path) in IPP_ROUTES:  # not IPP: never served as a web request
            assert 400 <= r.status_code < 500, (method, path, r.status_code)
        else:
            assert r.status_code == 403, (method, path, r.status_code, r.text[:200])
            checked += 1
    assert checked >= 10
    assert plain_user.get("/api/v1/session").json()["name"] == "dave"
    assert tracebacks(proxy.log()) == []


def test_a_read_only_token_cannot_change_anything(read_token: str, base: str) -> None:
    reader = Client(base, token=read_token)
    for method, path in sorted(WRITES):
        r = send(reader, method, path)
        assert r.status_code == 403, (method, path, r.status_code, r.text[:200])
    assert reader.get("/api/v1/jobs").status_code == 200


TRICKS = (
    lambda p: "/" + p,                                   # //api/v1/...
    lambda p: p.replace("/v1/", "//v1/"),
    lambda p: p.upper(),
    lambda p: p.replace("/api/", "/Api/"),
    lambda p: p + "/",
    lambda p: p.replace("/api/v1/", "/api/v1/./"),
    lambda p: p.replace("/api/v1/", "/api/v1/x/../"),
    lambda p: p.replace("/api/v1/", "/api/v1/%2e%2e/v1/"),
    lambda p: p.replace("/api/v1/", "/api/v1/%252e%252e/v1/"),
    lambda p: p.replace("/api/v1/", "/api/v1/..%2f"),
    lambda p: p.replace("/api/v1/", "/static/..%2f..%2fapi/v1/"),
    lambda p: p.replace("/", "\\"),                      # refused by the HTTP parser (400)
    lambda p: p.replace("/api/v1/", "/api\\v1\\"),
    lambda p: p.replace("/api/v1/", "/api/v1/..\\..\\"),
    lambda p: p.replace("/api/v1/", "/api%5cv1%5c"),
    lambda p: p.replace("/api/v1/", "/api/v1/..%5c..%5c"),
    lambda p: p + "%00",
    lambda p: p + ";.css",
    lambda p: p.replace("/api/v1/", "/admin/../api/v1/"),
    lambda p: p.replace("/api/v1/", "/printers/..%2f..%2fapi/v1/"),
)


def raw_get(proxy: IppProxy, target: str, headers: dict[str, str]) -> tuple[int, bytes]:
    """A request line sent as written (no client-side normalisation of the path), over
    TLS (plain HTTP is only redirected), trusting the server's own certificate."""
    import socket
    import ssl
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    tls = ssl.create_default_context(cafile=str(proxy.cert))
    with socket.create_connection((proxy.host, proxy.port), timeout=30) as raw:
        # Without it Nagle holds the request back until the server acknowledges the
        # handshake's last write, which it delays by 40 ms: 1,200 requests took a minute.
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with tls.wrap_socket(raw, server_hostname=proxy.host) as s:
            s.sendall(f"GET {target} HTTP/1.1\r\nHost: {proxy.authority}\r\n{head}"
                      f"Connection: close\r\n\r\n".encode())
            data = b""
            while chunk := s.recv(65536):
                data += chunk
    status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else 0
    return status, data.partition(b"\r\n\r\n")[2]


def test_path_tricks_reach_no_route_and_no_other_user(proxy: IppProxy, plain_user: Client,
                                                      admin: Client) -> None:
    gets = sorted({concrete(p) for m, p, public in ROUTES
                   if m == "GET" and not public and p.startswith(PREFIX)
                   and ("GET", p) not in USER_ROUTES | STREAMS})
    assert gets
    cookie = {"Cookie": f"ippproxy_session={plain_user.cookie}"}
    for path in gets:
        for trick in TRICKS:
            target = trick(path)
            status, body = raw_get(proxy, target, {})
            assert status in (400, 401, 404), (target, status, body[:200])
            status, body = raw_get(proxy, target, cookie)
            assert status in (400, 401, 403, 404), (target, status, body[:200])
    # With admin rights, a user's path reaches that user or nobody.
    done = cmd(proxy, "add-internal-user", "erin", "--password-file", "-",
               stdin="erin-secret-333\n")
    assert done.returncode == 0
    admin_cookie = {"Cookie": f"ippproxy_session={admin.cookie}"}
    for target in ("/api/v1/users/ERIN", "/api/v1/users/Erin%20", "/api/v1/users/erin%2f..",
                   "/api/v1/users/..%2fdave", "/api/v1/users/erin%2f..%2fdave",
                   "/api/v1/users/%2e%2e", "/api/v1/users/dave%00erin"):
        status, body = raw_get(proxy, target, admin_cookie)
        assert status in (200, 404, 422), (target, status)
        if status == 200:
            assert b'"username":"erin"' in body, (target, body[:200])
    assert own_tracebacks(proxy.log()) == []


def own_tracebacks(log: str) -> list[str]:
    """Tracebacks in the log, but for aiohttp's HTTP parser refusing a request line that
    is not HTTP (a raw backslash): it answers 400 and logs the parser's exception."""
    blocks = log.split("Traceback (most recent call last):")[1:]
    return [b[:300] for b in blocks if "InvalidURLError" not in b.split("\n20", 1)[0]]
