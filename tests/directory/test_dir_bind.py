"""LDAP bind login and TLS against a throwaway slapd: the right password, a wrong or empty
one, a filter injection in the user name, StartTLS and LDAPS with the certificate checked."""

from __future__ import annotations

import pytest
from ldap_seed import person, settings
from support.slapd import Slapd

from ippproxy.directory import DirectoryError, TlsMode
from ippproxy.directory.bind import authenticate, user_filter
from ippproxy.directory.source import read


def test_bind_login(seeded: Slapd) -> None:
    s = settings(seeded)
    assert authenticate(s, "alice", "alice-pw") == "alice"
    assert authenticate(s, " ALICE", "alice-pw") == "alice"           # one identity
    assert authenticate(s, "alice", "bob-pw") is None
    assert authenticate(s, "alice", "") is None                        # no unauthenticated bind
    assert authenticate(s, "nobody", "alice-pw") is None
    assert authenticate(s, "sonja", "anything") is None                # no password at all


def test_filter_injection_is_escaped(seeded: Slapd) -> None:
    s = settings(seeded)
    assert user_filter(s, "*)(uid=*") == \
        r"(&(objectClass=inetOrgPerson)(uid=\2a\29\28uid=\2a))"
    # Unescaped, "a*" would match alice alone and log in with her password.
    assert authenticate(s, "a*", "alice-pw") is None
    assert authenticate(s, "*)(uid=alice", "alice-pw") is None
    person(seeded, "a*", "Star User", password="star-pw")             # the literal name works
    assert authenticate(s, "a*", "star-pw") == "a*"


def test_starttls_and_ldaps_check_the_certificate(seeded: Slapd) -> None:
    trusted = {"ca_file": str(seeded.ca_file)}
    for tls, url in ((TlsMode.STARTTLS, seeded.url), (TlsMode.LDAPS, seeded.ldaps_url)):
        s = settings(seeded, tls=tls, url=url, **trusted)
        assert authenticate(s, "bob", "bob-pw") == "bob"
        assert {u.name for u in read(s).users} == {"alice", "bob", "jason", "sonja"}
        untrusted = settings(seeded, tls=tls, url=url)           # the system CAs: refused
        with pytest.raises(DirectoryError, match="(?i)certificate"):
            read(untrusted)


def test_refused_search_bind_names_the_reason(seeded: Slapd) -> None:
    s = settings(seeded, bind_password="wrong")
    with pytest.raises(DirectoryError, match="bind as cn=admin.*refused"):
        read(s)
