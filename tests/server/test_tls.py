"""server/tls.py: the generated certificate (where, which names, when it is made anew), a
configured one used as it is, and a context that offers TLS 1.2 and later only; plus a real
``ippproxy serve`` with ``server.tls_cert`` / ``tls_key`` and no scrape token."""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import stat
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography import x509
from support.server import IppProxy

from ippproxy.config import Config, ConfigError, ServerConfig, StorageConfig, from_dict
from ippproxy.server import tls


def _config(tmp: Path, **server: str) -> Config:
    return Config(server=ServerConfig(**server),  # type: ignore[arg-type]
                  storage=StorageConfig(database=f"sqlite:///{tmp}/db/ippproxy.db",
                                        spool=str(tmp / "spool")))


def _names(path: Path) -> set[str]:
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return {*san.get_values_for_type(x509.DNSName),
            *(str(a) for a in san.get_values_for_type(x509.IPAddress))}


def test_generated_beside_the_sqlite_database_or_the_spool(tmp_path: Path) -> None:
    assert tls.tls_dir(_config(tmp_path)) == tmp_path / "db" / "tls"
    pg = Config(storage=StorageConfig(database="postgresql+psycopg://u@h/db",
                                      spool=str(tmp_path / "var" / "spool")))
    assert tls.tls_dir(pg) == tmp_path / "var" / "tls"


def test_generated_once_for_the_host_names_then_kept(tmp_path: Path) -> None:
    cfg = _config(tmp_path, hostname="print.example.test")
    first = tls.ensure_certificate(cfg)
    assert first.generated and first.cert.parent == tmp_path / "db" / "tls"
    assert _names(first.cert) == {socket.gethostname(), "print.example.test", "localhost",
                                  "127.0.0.1", "::1"}
    assert stat.S_IMODE(first.key.stat().st_mode) == 0o600
    assert stat.S_IMODE(first.cert.parent.stat().st_mode) == 0o700
    pem = first.cert.read_bytes()
    assert tls.ensure_certificate(cfg).cert.read_bytes() == pem        # kept
    renamed = tls.ensure_certificate(replace(cfg, server=ServerConfig(hostname="new.test")))
    assert "new.test" in _names(renamed.cert) and renamed.cert.read_bytes() != pem
    assert not list(first.cert.parent.glob(".*.tmp"))


def test_made_anew_before_it_expires(tmp_path: Path) -> None:
    cfg = _config(tmp_path)
    names = tls.host_names(cfg)
    old = dt.datetime.now(dt.UTC) - tls.VALIDITY + dt.timedelta(days=10)   # 10 days left
    tls.generate(tls.tls_dir(cfg), names, now=old)
    pem = (tls.tls_dir(cfg) / tls.CERT_FILE).read_bytes()
    fresh = tls.ensure_certificate(cfg)
    assert fresh.cert.read_bytes() != pem
    cert = x509.load_pem_x509_certificate(fresh.cert.read_bytes())
    assert cert.not_valid_after_utc > dt.datetime.now(dt.UTC) + tls.VALIDITY / 2


def test_a_configured_certificate_is_used_as_it_is(tmp_path: Path) -> None:
    made = tls.generate(tmp_path / "own", ("print.example.test",))
    cfg = _config(tmp_path, tls_cert=str(made.cert), tls_key=str(made.key))
    got = tls.ensure_certificate(cfg)
    assert (got.cert, got.key, got.generated) == (made.cert, made.key, False)
    assert not (tmp_path / "db" / "tls").exists()


def test_context_offers_tls_1_2_and_later_only(tmp_path: Path) -> None:
    ctx = tls.server_context(tls.generate(tmp_path, ("localhost",)))
    assert ctx.minimum_version == ssl.TLSVersion.TLSv1_2
    assert ctx.num_tickets == 0


def test_a_key_that_does_not_match_is_refused(tmp_path: Path) -> None:
    a = tls.generate(tmp_path / "a", ("localhost",))
    b = tls.generate(tmp_path / "b", ("localhost",))
    with pytest.raises(ssl.SSLError):
        tls.server_context(tls.Certificate(a.cert, b.key, generated=False))


def test_serve_with_a_configured_certificate_and_metrics_for_admins_only(tmp_path: Path) -> None:
    own = tls.generate(tmp_path / "own", ("print.example.test", "127.0.0.1"))
    proxy = IppProxy(tmp_path / "proxy",
                     server={"tls_cert": str(own.cert), "tls_key": str(own.key)})
    with proxy:
        ctx = ssl.create_default_context(cafile=str(own.cert))
        with socket.create_connection((proxy.host, proxy.port), timeout=10) as raw, \
                ctx.wrap_socket(raw, server_hostname="print.example.test") as conn:
            assert conn.getpeercert() is not None      # verified against our own certificate
            conn.sendall(b"GET /metrics HTTP/1.1\r\nHost: print.example.test\r\n"
                         b"Connection: close\r\n\r\n")
            head = conn.recv(4096)
        # No scrape token configured: /metrics is for admins only, and this request is none.
        assert head.split(b" ")[1] == b"401"
        assert b"application/problem+json" in head
    assert not (tmp_path / "proxy" / "tls").exists()


def test_config_names_the_tls_and_token_keys(tmp_path: Path) -> None:
    cert = tmp_path / "c.pem"
    cert.write_text("x")
    for server, key in (({"tls_cert": str(cert)}, "server.tls_key"),
                        ({"tls_key": str(cert)}, "server.tls_cert"),
                        ({"tls_cert": str(cert), "tls_key": str(tmp_path / "none")},
                         "server.tls_key"),
                        ({"metrics_token": "short"}, "server.metrics_token"),
                        ({"metrics_token": "has a space in it, long enough"},
                         "server.metrics_token")):
        with pytest.raises(ConfigError) as e:
            from_dict({"server": server})
        assert e.value.key == key, server
    ok = from_dict({"server": {"tls_cert": str(cert), "tls_key": str(cert),
                               "metrics_token": "x" * 16}})
    assert ok.server.tls_cert == str(cert) and ok.server.metrics_token == "x" * 16


def test_nodes_starting_together_keep_one_matching_pair(tmp_path: Path) -> None:
    # Two nodes on one spool (PostgreSQL) start at once: without the lock each wrote its own
    # key and certificate, and one of them failed with KEY_VALUES_MISMATCH.
    import multiprocessing
    config = _config(tmp_path)
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(6) as pool:
        pairs = pool.map(_ensure_and_load, [config] * 12)
    assert len(set(pairs)) == 1                       # one generation, read by everyone
    tls.server_context(tls.ensure_certificate(config))


def _ensure_and_load(config: Config) -> bytes:
    cert = tls.ensure_certificate(config)
    tls.server_context(cert)                          # the pair matches
    return cert.cert.read_bytes()
