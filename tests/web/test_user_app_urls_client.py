"""The user web app's personal printer URLs (made with a QR code of each ``ipps://`` URL,
shown once; revoked) and the client download page (a wheel of this package that pip
installs), over HTTP against the real ``ippproxy serve``."""

from __future__ import annotations

import base64
import hashlib
import html
import io
import re
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from e2e.ipp_client import build
from support.server import tracebacks
from support.webapi import Client, trust

from ippproxy.ipp import Operation, Status, decode, encode
from ippproxy.web.pages.user.qr import qr_svg

from .userapp_env import UserEnv, start, user_client


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, pdf: Path) -> Iterator[UserEnv]:
    e = start(tmp_path_factory.mktemp("userurls"), pdf)
    try:
        yield e
        assert tracebacks(e.proxy.log()) == []
    finally:
        e.proxy.stop()


def _ipp_status(env: UserEnv, path: str) -> int:
    """Get-Printer-Attributes over IPPS to ``path``: the IPP status, or the HTTP one."""
    msg = build(Operation.GET_PRINTER_ATTRIBUTES, f"ipps://{env.proxy.authority}{path}",
                user="mallory")
    r = requests.post(env.proxy.https + path, data=encode(msg), timeout=30,
                      headers={"Content-Type": "application/ipp"},
                      verify=trust(env.proxy.https))
    return int(decode(r.content).code) if r.status_code == 200 else r.status_code


def test_a_printer_url_with_its_qr_code_then_revoked(env: UserEnv) -> None:
    alice = user_client(env.proxy.https, "alice")
    bob = user_client(env.proxy.https, "bob")
    page = alice.post("/user/printers", data={"csrf_token": alice.csrf, "name": "alice-pixel"},
                      headers={"Accept": "text/html"})
    assert page.status_code == 200, page.text[:300]
    urls = re.findall(r'value="(ipps://[^"]+)"', page.text)
    assert len(urls) == 1 and f"ipps://{env.proxy.authority}/printers/mobile/u/ipxu_" in urls[0]
    url = html.unescape(urls[0])
    # The QR code is the server's encoding of exactly that URL, inline, named for a reader.
    assert str(qr_svg(url, "qr-0")) in page.text
    assert '<svg role="img" aria-labelledby="qr-0-t"' in page.text
    path = url.removeprefix(f"ipps://{env.proxy.authority}")
    assert _ipp_status(env, path) == Status.SUCCESSFUL_OK
    # Listed by name afterwards, the secret never again; not on bob's page.
    listing = alice.get("/user/printers").text
    secret = path.rsplit("/", 1)[1]
    assert "<h3>alice-pixel</h3>" in listing
    assert secret not in listing and "ipxu_" not in listing
    assert "alice-pixel" not in bob.get("/user/printers").text
    url_id = re.search(r'action="/user/printers/([0-9a-f-]{36})/revoke"', listing)
    assert url_id is not None
    # bob cannot revoke it (404: nobody learns of another user's URL); alice can.
    r = bob.post(f"/user/printers/{url_id.group(1)}/revoke", data={"csrf_token": bob.csrf})
    assert r.status_code == 404
    assert _ipp_status(env, path) == Status.SUCCESSFUL_OK
    no_csrf = Client(alice.base, cookie=alice.cookie).post(
        f"/user/printers/{url_id.group(1)}/revoke", data={})
    assert no_csrf.status_code == 403
    r = alice.post(f"/user/printers/{url_id.group(1)}/revoke", data={"csrf_token": alice.csrf})
    assert r.status_code == 303 and r.headers["Location"] == "/user/printers"
    assert 'id="no-urls"' in alice.get("/user/printers").text
    assert _ipp_status(env, path) == 401
    bad = alice.post("/user/printers", data={"csrf_token": alice.csrf, "name": ""})
    assert bad.status_code == 422


def _record_ok(wheel: zipfile.ZipFile) -> None:
    record = next(n for n in wheel.namelist() if n.endswith(".dist-info/RECORD"))
    for line in wheel.read(record).decode().splitlines():
        name, digest, size = line.rsplit(",", 2)
        if name == record:
            continue
        data = wheel.read(name)
        want = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        assert digest == f"sha256={want}" and int(size) == len(data), name


def test_the_client_page_hands_out_a_wheel_pip_installs(env: UserEnv, tmp_path: Path) -> None:
    alice = user_client(env.proxy.https, "alice")
    page = alice.get("/user/client", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "ippproxy-client" in page.text
    link = re.search(r'id="wheel-link" href="(/user/client/[^"]+\.whl)"', page.text)
    sha = re.search(r'id="wheel-sha">([0-9a-f]{64})<', page.text)
    assert link is not None and sha is not None
    assert f"ippproxy-client https://{env.proxy.authority}" in page.text
    assert Client(alice.base).get(link.group(1)).status_code == 401     # deny by default
    assert alice.get("/user/client/other.whl").status_code == 404
    r = alice.get(link.group(1))
    assert r.status_code == 200 and hashlib.sha256(r.content).hexdigest() == sha.group(1)
    with zipfile.ZipFile(io.BytesIO(r.content)) as wheel:
        names = wheel.namelist()
        assert "ippproxy/__init__.py" in names and "ippproxy/web/templates/user/home.html" in names
        assert not any("__pycache__" in n for n in names)
        _record_ok(wheel)
    target = tmp_path / "site"
    path = tmp_path / link.group(1).rsplit("/", 1)[1]
    path.write_bytes(r.content)
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index",
                           "--target", str(target), str(path)], capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (target / "bin" / "ippproxy").exists()        # the console scripts
    where = subprocess.run([sys.executable, "-c", "import ippproxy; print(ippproxy.__file__)"],
                           capture_output=True, text=True, timeout=60, check=True,
                           env={"PYTHONPATH": str(target)}, cwd=tmp_path)
    assert where.stdout.strip().startswith(str(target)), where.stdout
