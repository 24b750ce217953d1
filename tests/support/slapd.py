"""A throwaway OpenLDAP server for tests: Debian's ``slapd`` in the foreground of a
subprocess, on free ports (ldap:// with StartTLS, and ldaps://), with a generated
slapd.conf (mdb database, the memberOf overlay) and a certificate from a throwaway CA.

Entries are added through the running server (ldap3), so the memberOf overlay keeps
``memberOf`` on the users (slapadd would bypass it). ``make test`` installs the
packages (DEB_PACKAGES: slapd, ldap-utils).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from ldap3 import Connection, Server

from testprinters.ports import free_port

SLAPD = Path("/usr/sbin/slapd")
SUFFIX = "dc=example,dc=org"
ROOT_DN = f"cn=admin,{SUFFIX}"
ROOT_PW = "admin-secret"
PEOPLE = f"ou=people,{SUFFIX}"
GROUPS = f"ou=groups,{SUFFIX}"

CONF = """\
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
pidfile {root}/slapd.pid
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload memberof
TLSCACertificateFile {root}/ca.pem
TLSCertificateFile {root}/server.pem
TLSCertificateKeyFile {root}/server.key
sizelimit unlimited
database mdb
maxsize 1073741824
suffix "{suffix}"
rootdn "{rootdn}"
rootpw {rootpw}
directory {root}/data
index objectClass,uid,cn,member,uniqueMember,memberUid eq
overlay memberof
memberof-refint TRUE
"""


def _cert(subject: str, key: ec.EllipticCurvePrivateKey, issuer: x509.Name | None,
          issuer_key: ec.EllipticCurvePrivateKey | None, ca: bool) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    now = dt.datetime.now(dt.UTC)
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(issuer or name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(hours=1))
               .not_valid_after(now + dt.timedelta(days=2))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if not ca:
        builder = builder.add_extension(x509.SubjectAlternativeName(
            [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False)
    return builder.sign(issuer_key or key, hashes.SHA256())


def make_certificates(root: Path) -> None:
    """ca.pem (a throwaway CA), server.pem and server.key (localhost, 127.0.0.1)."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _cert("ippproxy test CA", ca_key, None, None, True)
    key = ec.generate_private_key(ec.SECP256R1())
    server = _cert("localhost", key, ca.subject, ca_key, False)
    (root / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (root / "server.pem").write_bytes(server.public_bytes(serialization.Encoding.PEM))
    (root / "server.key").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption()))


@dataclass
class Slapd:
    root: Path
    port: int
    tls_port: int
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"

    @property
    def ldaps_url(self) -> str:
        return f"ldaps://127.0.0.1:{self.tls_port}"

    @property
    def ca_file(self) -> Path:
        return self.root / "ca.pem"

    def admin(self) -> Connection:
        return Connection(Server(self.url), ROOT_DN, ROOT_PW, auto_bind=True)

    def add(self, dn: str, classes: list[str], attrs: dict[str, object]) -> None:
        with self.admin() as c:
            if not c.add(dn, classes, attrs):
                raise RuntimeError(f"add {dn}: {c.result}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def base_ldif() -> str:
    """The suffix, ou=people and ou=groups."""
    return (f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\no: Example\n"
            f"dc: example\n\ndn: {PEOPLE}\nobjectClass: organizationalUnit\nou: people\n\n"
            f"dn: {GROUPS}\nobjectClass: organizationalUnit\nou: groups\n\n")


STARTS = 3


def launch(s: Slapd, *, append: bool = False) -> None:
    """Start slapd for ``s`` on its ports, its output in ``slapd.log`` (``append``: after
    what an earlier run wrote). ``-d 32768`` (loglevel "none") logs only what has no
    level, such as a failed bind, which ``-d 0`` kept silent: a CI run lost a test to
    "slapd did not start:" and an empty log."""
    with open(s.root / "slapd.log", "ab" if append else "wb") as log:
        s.proc = subprocess.Popen(
            [str(SLAPD), "-f", str(s.root / "slapd.conf"), "-d", "32768",
             "-h", f"ldap://127.0.0.1:{s.port}/ ldaps://127.0.0.1:{s.tls_port}/"],
            stdout=log, stderr=subprocess.STDOUT)


def wait_answering(s: Slapd, timeout: float) -> str | None:
    """None once ``s``'s slapd answers on its port; else why not (it exited, or did not
    answer within ``timeout`` seconds: then it is stopped), with the end of its log. A port
    that answers counts only while our slapd runs (not another process's listener)."""
    assert s.proc is not None
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", s.port), timeout=1):
                pass
            if s.proc.poll() is None:
                return None
            raise ConnectionRefusedError
        except OSError:
            exited = s.proc.poll()
            if exited is not None or time.monotonic() > deadline:
                s.stop()
                said = (s.root / "slapd.log").read_text(errors="replace")[-2000:]
                return (f"exit status {exited}: {said}" if exited is not None
                        else f"no answer on port {s.port} within {timeout:g} s: {said}")
            time.sleep(0.05)


def _serve(root: Path) -> Slapd:
    """slapd on two free ports, answering. One that exits while starting (another process
    took a port between free_port and its bind) is started again on other ports."""
    failures: list[str] = []
    for _ in range(STARTS):
        s = Slapd(root, free_port(), free_port())
        launch(s)
        failure = wait_answering(s, 20)
        if failure is None:
            return s
        failures.append(failure)
        if not failure.startswith("exit status"):   # slow, not refused: again is no faster
            break
    raise RuntimeError("slapd did not start: " + " | ".join(failures))


def start_slapd(root: Path, bulk_ldif: Path | None = None) -> Slapd:
    """Start a fresh directory. ``bulk_ldif`` (which must hold base_ldif() first) is loaded
    with slapadd before the server starts: fast, but the memberOf overlay does not see it,
    so groups meant to set memberOf are added afterwards through the server."""
    if not SLAPD.exists():
        raise RuntimeError("slapd is not installed: `make test` installs DEB_PACKAGES "
                           "(apt-get install slapd ldap-utils)")
    (root / "data").mkdir(parents=True)
    make_certificates(root)
    (root / "slapd.conf").write_text(CONF.format(root=root, suffix=SUFFIX, rootdn=ROOT_DN,
                                                 rootpw=ROOT_PW))
    if bulk_ldif is not None:
        subprocess.run(["/usr/sbin/slapadd", "-q", "-f", str(root / "slapd.conf"),
                        "-l", str(bulk_ldif)], check=True, capture_output=True)
    s = _serve(root)
    if bulk_ldif is None:
        s.add(SUFFIX, ["dcObject", "organization"], {"o": "Example", "dc": "example"})
        s.add(PEOPLE, ["organizationalUnit"], {"ou": "people"})
        s.add(GROUPS, ["organizationalUnit"], {"ou": "groups"})
    return s


@pytest.fixture
def slapd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Slapd]:
    """A fresh, empty directory (the suffix, ou=people and ou=groups) per test."""
    root = tmp_path_factory.mktemp("slapd")
    s = start_slapd(root)
    try:
        yield s
    finally:
        s.stop()
        shutil.rmtree(root / "data", ignore_errors=True)
