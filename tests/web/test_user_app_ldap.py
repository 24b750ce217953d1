"""An external user signs in to the user web app by an LDAP bind (issue 17 §8, issue 18's
directory/bind.py) against a throwaway slapd, through the real ``ippproxy serve`` with an
``[ldap]`` directory: the directory's password signs in, a wrong one does not, and the
user store holds no password for them."""

from __future__ import annotations

import time
from pathlib import Path

from support.server import IppProxy, tracebacks
from support.slapd import PEOPLE, ROOT_DN, ROOT_PW, SUFFIX, Slapd, slapd  # noqa: F401
from support.webapi import Client, remember_certificate

from .userapp_env import CONFIG, QUEUES, UserEnv, page_login


def test_an_external_user_signs_in_with_the_directory_password(
        tmp_path: Path, pdf: Path, slapd: Slapd) -> None:  # noqa: F811
    slapd.add(f"uid=lena,{PEOPLE}", ["inetOrgPerson"], {
        "uid": "lena", "cn": "Lena Lang", "sn": "Lang", "userPassword": "lena-ldap-pw"})
    proxy = IppProxy(tmp_path / "srv", queues=QUEUES)
    proxy.config_path.write_text(proxy.config_path.read_text() + CONFIG + f"""
[ldap]
url = "{slapd.url}"
base_dn = "{SUFFIX}"
bind_dn = "{ROOT_DN}"
bind_password = "{ROOT_PW}"
sync_interval = 3600
login = true
""")
    with proxy:
        remember_certificate(proxy)
        env = UserEnv(proxy, pdf)
        deadline = time.monotonic() + 60      # the first sync runs when the server starts
        while "lena" not in {u["username"] for u in env.cmd("list-users")}:
            assert time.monotonic() < deadline, "the directory sync did not add lena"
            time.sleep(0.5)
        base = proxy.https
        wrong = page_login(base, "lena", "not-her-password")
        assert wrong.status_code == 401 and "Wrong name or password." in wrong.text
        ok = page_login(base, "lena", "lena-ldap-pw")
        assert ok.status_code == 303 and ok.headers["Location"] == "/user/"
        cookie = ok.headers["Set-Cookie"].split("ippproxy_session=")[1].split(";")[0]
        home = Client(base, cookie=cookie).get("/user/", headers={"Accept": "text/html"})
        assert home.status_code == 200 and "Hello, lena" in home.text
        slapd.stop()                          # the directory down: no sign-in, no crash
        down = page_login(base, "lena", "lena-ldap-pw")
        # not "wrong password" and not counted: the directory cannot be reached (503)
        assert down.status_code == 503 and "cannot be reached" in down.text
        assert tracebacks(proxy.log()) == []
