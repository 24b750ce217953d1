"""Password check of an external user by an LDAP bind (RFC 4513 §5.1.3, simple bind).

The user's entry is found with the search account and a filter in which the name is
escaped (RFC 4515 §3: ``*``, ``(``, ``)``, ``\\``, NUL), then the password is checked by
binding as that entry's DN. An empty password is refused before any bind: a simple bind
with a DN and no password is an *unauthenticated* bind that servers accept (RFC 4513
§5.1.2). Exactly one entry must match.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from ldap3 import SUBTREE
from ldap3.utils.conv import escape_filter_chars

from ippproxy.accounting.identity import canonical_name
from ippproxy.directory.connect import open_connection
from ippproxy.directory.errors import DirectoryError
from ippproxy.directory.settings import LdapSettings

log = logging.getLogger(__name__)


def user_filter(s: LdapSettings, username: str) -> str:
    return f"(&{s.user_filter}({s.attributes.id}={escape_filter_chars(username)}))"


def authenticate(s: LdapSettings, username: str, password: str) -> str | None:
    """The canonical user name when the directory accepts the password, else None.
    Blocking; raises DirectoryError when the directory cannot be asked."""
    if not password:
        return None
    try:
        name = canonical_name(username)
    except ValueError:
        return None
    search = open_connection(s)
    try:
        search.search(s.base_dn, user_filter(s, name), SUBTREE, attributes=[s.attributes.id],
                      size_limit=2)
        entries = [e for e in search.response or [] if e.get("type") == "searchResEntry"]
    finally:
        search.unbind()
    if len(entries) != 1:
        return None
    found = entries[0]["attributes"].get(s.attributes.id)
    found = found[0] if isinstance(found, list) and found else found
    try:
        if canonical_name(str(found or "")) != name:
            return None
    except ValueError:
        return None
    conn = open_connection(s, entries[0]["dn"], password)
    try:
        return name if conn.bound else None
    finally:
        conn.unbind()


def password_checker(s: LdapSettings) -> Callable[[str, str], str | None]:
    """``authenticate`` for the login services. A directory that cannot be asked raises
    DirectoryError (logged here with its reason): the login service says the directory
    is unavailable rather than "wrong password" (services.admins)."""
    def check(username: str, password: str) -> str | None:
        try:
            return authenticate(s, username, password)
        except DirectoryError as e:
            log.warning("LDAP login of %r not checked: %s", username, e)
            raise
    return check
