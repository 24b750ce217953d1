"""TLS for the one port: the server certificate and the SSL context of IPPS and HTTPS.

With ``server.tls_cert`` / ``server.tls_key`` set, that certificate is used as it is. Without
them, a self-signed certificate for the host's names (the host name, ``server.hostname``,
``localhost``, ``127.0.0.1``, ``::1``, RFC 5280 §4.2.1.6 subjectAltName) is generated on first
start with the ``cryptography`` package and kept in ``tls/`` beside the database: the key
file is created with mode 0600 in a 0700 directory and written atomically. A kept certificate
is generated anew when it no longer names every host name or is about to expire.

Only TLS 1.2 and 1.3 are offered (RFC 8996 deprecates 1.0 and 1.1; RFC 9325 §3.1).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import ipaddress
import os
import socket
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ippproxy.config import Config

CERT_FILE = "server.crt"
KEY_FILE = "server.key"
LOCK_FILE = ".lock"
# A generated certificate lives this long and is renewed this long before it expires.
VALIDITY = dt.timedelta(days=825)       # the CA/Browser Forum's former ceiling
RENEW_BEFORE = dt.timedelta(days=30)
ALPN = ("http/1.1",)


@dataclass(frozen=True)
class Certificate:
    """Where the certificate and key are, and whether we generated them."""

    cert: Path
    key: Path
    generated: bool


def tls_dir(config: Config) -> Path:
    """``tls/`` beside the SQLite database, else beside the spool (PostgreSQL)."""
    url = config.storage.database
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        return Path(url.removeprefix("sqlite:///")).parent / "tls"
    return Path(config.storage.spool).parent / "tls"


def host_names(config: Config) -> tuple[str, ...]:
    """The names the generated certificate is for, without duplicates, in a stable order."""
    names = [socket.gethostname(), config.server.hostname, "localhost", "127.0.0.1", "::1"]
    listen = config.server.listen
    if listen not in ("", "0.0.0.0", "::"):
        names.append(listen)
    return tuple(dict.fromkeys(n for n in names if n))


def _general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def _covers(path: Path, names: tuple[str, ...], now: dt.datetime) -> bool:
    """The kept certificate names every host name and is not about to expire."""
    try:
        cert = x509.load_pem_x509_certificate(path.read_bytes())
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (OSError, ValueError, x509.ExtensionNotFound):
        return False
    have = set(san)
    return (all(_general_name(n) in have for n in names)
            and cert.not_valid_after_utc - RENEW_BEFORE > now)


def _write_private(path: Path, data: bytes, mode: int) -> None:
    """Write ``data`` to ``path`` atomically; the file never exists with a wider mode."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def generate(directory: Path, names: tuple[str, ...],
             now: dt.datetime | None = None) -> Certificate:
    """A new self-signed certificate (ECDSA P-256) for ``names`` in ``directory``."""
    now = now or dt.datetime.now(dt.UTC)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0][:64]),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ippproxy")])
    cert = (x509.CertificateBuilder()
            .subject_name(subject).issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + VALIDITY)
            .add_extension(x509.SubjectAlternativeName([_general_name(n) for n in names]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    _write_private(directory / KEY_FILE, key_pem, 0o600)
    _write_private(directory / CERT_FILE, cert.public_bytes(serialization.Encoding.PEM), 0o644)
    return Certificate(directory / CERT_FILE, directory / KEY_FILE, generated=True)


def ensure_certificate(config: Config) -> Certificate:
    """The configured certificate, else the kept self-signed one, else a new one."""
    server = config.server
    if server.tls_cert:
        return Certificate(Path(server.tls_cert), Path(server.tls_key), generated=False)
    directory = tls_dir(config)
    names = host_names(config)
    cert = directory / CERT_FILE
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    # Nodes sharing a spool start together: one checks and generates at a time, or two
    # would each write a key and a certificate and leave a mismatched pair.
    with open(directory / LOCK_FILE, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (directory / KEY_FILE).is_file() and _covers(cert, names, dt.datetime.now(dt.UTC)):
            return Certificate(cert, directory / KEY_FILE, generated=True)
        return generate(directory, names)


def server_context(cert: Certificate) -> ssl.SSLContext:
    """The server side of TLS 1.2+ with the certificate loaded (``ssl.SSLError`` if the pair
    does not match)."""
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_alpn_protocols(list(ALPN))
    # No TLS 1.3 session tickets (RFC 8446 §4.6.1): CUPS clients (GnuTLS) with a receive
    # timeout (``ipptool -T``) read the tickets sent after the handshake as an empty response.
    ctx.num_tickets = 0
    ctx.load_cert_chain(cert.cert, cert.key)
    return ctx
