"""Opening and binding an ldap3 connection, with TLS and timeouts, errors made plain."""

from __future__ import annotations

import math
import ssl
from urllib.parse import urlsplit

from ldap3 import Connection, Server, Tls
from ldap3.core.exceptions import LDAPException

from ippproxy.directory.errors import DirectoryError
from ippproxy.directory.settings import LdapSettings, TlsMode


def server(s: LdapSettings) -> Server:
    url = urlsplit(s.url)
    secure = s.tls is TlsMode.LDAPS or url.scheme == "ldaps"
    if secure and url.scheme != "ldaps":
        raise DirectoryError(f"tls = ldaps needs an ldaps:// URL, not {s.url!r}")
    tls = None
    if s.tls is not TlsMode.NONE or secure:
        # Certificate and host name always checked (RFC 4513 §3.1.3).
        tls = Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=s.ca_file or None,
                  version=ssl.PROTOCOL_TLS_CLIENT)
    port = url.port or (636 if secure else 389)
    return Server(url.hostname or "", port=port, use_ssl=secure, tls=tls,
                  connect_timeout=s.timeout)


def open_connection(s: LdapSettings, user: str | None = None,
                    password: str | None = None) -> Connection:
    """A bound connection (as ``user`` or the settings' bind DN); raises DirectoryError
    with the reason; a refused bind of ``user`` returns an unbound connection instead."""
    dn = s.bind_dn if user is None else user
    pw = s.bind_password if user is None else (password or "")
    try:
        conn = Connection(server(s), dn or None, pw or None, receive_timeout=max(1, math.ceil(s.timeout)),
                          raise_exceptions=False, read_only=True)
        conn.open()
        if s.tls is TlsMode.STARTTLS and not conn.start_tls():
            raise DirectoryError(f"StartTLS refused by {s.url}: {conn.result}")
        if not conn.bind():
            if user is not None:
                return conn
            raise DirectoryError(f"bind as {dn or 'anonymous'} refused by {s.url}: "
                                 f"{conn.result.get('description', conn.result)}")
        return conn
    except (LDAPException, OSError) as e:
        raise DirectoryError(f"directory {s.url} unreachable: {e}") from None
    except ssl.SSLError as e:
        raise DirectoryError(f"TLS with {s.url} failed: {e}") from None
