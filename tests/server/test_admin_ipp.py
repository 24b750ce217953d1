"""Nobody is root by saying so (issue 15): admin operations over real IPP against
``ippproxy serve``, on its one port (IPP and IPPS) and on its local Unix socket.

``requesting-user-name`` never makes an admin: nobody proven gets HTTP 401 with a challenge
and client-error-not-authenticated; names with control characters or surrounding spaces
are refused (client-error-bad-request), never stripped into "root"; a proven user who is
no admin gets client-error-forbidden. Admins prove themselves with HTTP Basic over TLS
(the admin role), an API token, or as uid 0 on the Unix socket (SO_PEERCRED). IPP Basic
is under the admin endpoint's login throttle, and disabling a user ends its cached login.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest
import pytest_asyncio
from sqlalchemy import Connection
from support.admin import basic, bearer
from support.server import IppProxy

from ippproxy.accounting import users
from ippproxy.accounting.txn import in_transaction
from ippproxy.config import Config, load
from ippproxy.db import make_engine
from ippproxy.ipp import Operation as Op
from ippproxy.ipp import Tag, encode
from ippproxy.server.authn import local_identity
from ippproxy.server.identity import NOBODY, Identity

from .client import Ipp, a, status, value

P = Tag.PRINTER_ATTRIBUTES
IDLE, STOPPED = 3, 5


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IppProxy]:
    directory = tmp_path_factory.mktemp("admin-ipp")
    # The socket in a directory every local user may enter (as /run/cups is).
    sockets = Path(tempfile.mkdtemp(prefix="ippproxy-sock-"))
    sockets.chmod(0o755)
    proxy = IppProxy(directory, server={"unix_socket": str(sockets / "ippproxy.sock")})
    with proxy.config_path.open("a") as f:
        f.write("[accounting]\nenabled = true\n")
    with proxy:
        engine = make_engine(load(proxy.config_path).storage.database)

        def work(conn: Connection) -> None:
            defaults = users.UserDefaults("EUR", 0, True, 0)
            for name, admin in (("alice", False), ("carol", True), ("dora", True),
                                ("erin", False)):
                users.add_user(conn, name, defaults=defaults, internal=True,
                               password=f"{name}-password")
                if admin:
                    users.set_user_property(conn, name, "admin", "true")
        in_transaction(engine, work)
        engine.dispose()
        yield proxy
    shutil.rmtree(sockets, ignore_errors=True)


@pytest.fixture(scope="module")
def config(served: IppProxy) -> Config:
    return load(served.config_path)


@pytest_asyncio.fixture
async def clients(served: IppProxy) -> AsyncIterator[tuple[Ipp, Ipp]]:
    """(plain ipp://, TLS ipps://) clients of the same port."""
    async with aiohttp.ClientSession() as session:
        plain = Ipp(session, f"http://{served.authority}", served.authority, "default")
        yield plain, Ipp(session, f"https://{served.authority}", served.authority, "default")


async def state(ipp: Ipp) -> object:
    m = await ipp.call(Op.GET_PRINTER_ATTRIBUTES, a("requested-attributes", Tag.KEYWORD,
                                                    "printer-state"))
    return value(m, P, "printer-state")


async def test_claiming_root_makes_nobody_an_admin(clients: tuple[Ipp, Ipp]) -> None:
    plain, tls = clients
    for ipp in (plain, tls):
        for op in (Op.PAUSE_PRINTER, Op.DISABLE_PRINTER, Op.PURGE_JOBS):
            code, headers, m = await ipp.exchange(op, user="root")
            assert code == 401 and headers["WWW-Authenticate"].startswith("Basic realm=")
            assert m is not None and status(m) == "client-error-not-authenticated"
    assert await state(plain) == IDLE


@pytest.mark.parametrize("name", [" root ", "root\t", "r\0oot", "root\r\n", "\u202eroot"])
async def test_names_with_control_characters_are_refused_not_stripped(
        clients: tuple[Ipp, Ipp], name: str) -> None:
    plain, _ = clients
    for op in (Op.PAUSE_PRINTER, Op.GET_JOBS):
        code, _, m = await plain.exchange(op, user=name)
        assert code == 200 and m is not None and status(m) == "client-error-bad-request"
        msg = m.get(Tag.OPERATION_ATTRIBUTES, "status-message")
        assert msg is not None and "requesting-user-name" in str(msg.value)
    assert await state(plain) == IDLE


async def test_a_proven_user_who_is_no_admin_is_forbidden(clients: tuple[Ipp, Ipp]) -> None:
    _, tls = clients
    alice = Ipp(tls.session, tls.base, tls.authority, tls.queue,
                headers={"Authorization": basic("alice", "alice-password")})
    code, _, m = await alice.exchange(Op.PAUSE_PRINTER, user="root")
    assert code == 200 and m is not None and status(m) == "client-error-forbidden"
    assert await state(tls) == IDLE


async def test_passwords_only_over_tls(clients: tuple[Ipp, Ipp]) -> None:
    plain, _ = clients
    code, headers, _ = await plain.exchange(
        Op.PAUSE_PRINTER, headers={"Authorization": basic("carol", "carol-password")})
    assert code == 426 and "TLS" in headers["Upgrade"]
    assert await state(plain) == IDLE


async def test_an_admin_by_password_or_token_pauses_and_resumes(
        clients: tuple[Ipp, Ipp], config: Config) -> None:
    plain, tls = clients
    carol = Ipp(tls.session, tls.base, tls.authority, tls.queue,
                headers={"Authorization": basic("carol", "carol-password")})
    assert status(await carol.call(Op.PAUSE_PRINTER, user="anyone")) == "successful-ok"
    assert await state(plain) == STOPPED
    token = Ipp(tls.session, tls.base, tls.authority, tls.queue,
                headers={"Authorization": await bearer(config)})
    assert status(await token.call(Op.RESUME_PRINTER)) == "successful-ok"
    assert await state(plain) == IDLE


# One request over the Unix socket, plain HTTP/1.1 by hand; prints the answer's IPP status.
# Standalone, so that another local user can run it with the system Python.
UNIX_CALL = """
import socket, sys
path, body = sys.argv[1], bytes.fromhex(sys.argv[2])
head = ("POST /printers/default HTTP/1.1\\r\\nHost: localhost\\r\\n"
        "Content-Type: application/ipp\\r\\nContent-Length: %d\\r\\n"
        "Connection: close\\r\\n\\r\\n" % len(body))
with socket.socket(socket.AF_UNIX) as s:
    s.connect(path)
    s.sendall(head.encode() + body)
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
answer = data.split(b"\\r\\n\\r\\n", 1)[1]
print(int.from_bytes(answer[2:4], "big"))
"""


async def _unix_call(path: str, body: bytes, user: int | None = None) -> int:
    out = await asyncio.to_thread(
        subprocess.run, ["/usr/bin/python3", "-c", UNIX_CALL, path, body.hex()], user=user,
        capture_output=True, text=True, check=True)
    return int(out.stdout)


async def test_root_on_the_unix_socket_is_an_admin_and_others_are_not(
        served: IppProxy, clients: tuple[Ipp, Ipp], config: Config) -> None:
    plain, _ = clients
    pause = encode(plain.request(Op.PAUSE_PRINTER, user="mallory"))
    resume = encode(plain.request(Op.RESUME_PRINTER, user="mallory"))
    code = await _unix_call(config.server.unix_socket, pause)
    expected = 0 if os.getuid() == 0 else 0x0401  # successful-ok, else client-error-forbidden
    assert code == expected
    if os.getuid() != 0:
        return
    assert await state(plain) == STOPPED
    # Another local user (nobody) on the same socket: proven, but no admin.
    assert await _unix_call(config.server.unix_socket, resume, user=65534) == 0x0401
    assert await state(plain) == STOPPED
    assert await _unix_call(config.server.unix_socket, resume) == 0
    assert await state(plain) == IDLE


async def test_disabling_a_user_ends_its_cached_login_at_once(
        served: IppProxy, clients: tuple[Ipp, Ipp], config: Config) -> None:
    _, tls = clients
    dora = Ipp(tls.session, tls.base, tls.authority, tls.queue,
               headers={"Authorization": basic("dora", "dora-password")})
    assert status(await dora.call(Op.GET_JOBS)) == "successful-ok"    # now cached
    engine = make_engine(config.storage.database)
    in_transaction(engine, lambda c: users.set_user_property(c, "dora", "disabled", "true"))
    engine.dispose()
    code, _, _ = await dora.exchange(Op.PAUSE_PRINTER)
    assert code == 401
    assert await state(tls) == IDLE


async def test_wrong_passwords_over_ipp_basic_are_throttled_and_audited(
        served: IppProxy, clients: tuple[Ipp, Ipp]) -> None:
    _, tls = clients
    wrong = {"Authorization": basic("erin", "not-her-password")}
    for _ in range(5):   # the throttle's free failures (services/throttle.py)
        code, _, _ = await tls.exchange(Op.GET_JOBS, headers=wrong)
        assert code == 401
    code, headers, _ = await tls.exchange(
        Op.GET_JOBS, headers={"Authorization": basic("erin", "erin-password")})
    assert code == 429 and int(headers["Retry-After"]) > 0
    audits = [json.loads(line.split("audit ", 1)[1]) for line in served.log().splitlines()
              if "audit {" in line]
    assert any(e["action"] == "ipp.lockout" and e["target"] == "user:erin" for e in audits)
    assert sum(e["action"] == "ipp.login-failed" and e["target"] == "user:erin"
               for e in audits) == 5


def test_a_local_peer_is_an_admin_only_as_root_or_the_servers_own_uid() -> None:
    """Unix-socket peers (SO_PEERCRED): only uid 0 and the uid the server runs as are
    admins; anyone else is an ordinary user by the canonical name of their uid, whatever
    that name is, and a uid without a name proves nothing."""
    daemon, nobody = pwd.getpwnam("daemon").pw_uid, pwd.getpwnam("nobody").pw_uid
    assert local_identity(0, daemon) == Identity("root", admin=True)
    assert local_identity(daemon, daemon) == Identity("daemon", admin=True)   # a service user
    assert local_identity(nobody, daemon) == Identity("nobody", admin=False)
    assert local_identity(nobody, 0) == Identity("nobody", admin=False)
    assert local_identity(daemon, 0) == Identity("daemon", admin=False)
    unnamed = 4_000_000
    with contextlib.suppress(KeyError):
        pwd.getpwuid(unnamed)
        raise AssertionError("uid 4000000 has a name here")
    assert local_identity(unnamed, 0) == NOBODY and not NOBODY.proven
    assert local_identity(unnamed, unnamed).admin
