"""ippproxy.directory: an LDAP directory as the user source (ldap3).

Reads users and groups (groupOfNames, groupOfUniqueNames, posixGroup, memberOf; nested
groups), syncs them into the user store through ippproxy.accounting (preview, then apply),
and checks external users' passwords by an LDAP bind. No HTTP here.
"""

from ippproxy.directory.errors import DirectoryError
from ippproxy.directory.settings import LdapSettings, TlsMode

__all__ = ["DirectoryError", "LdapSettings", "TlsMode"]
