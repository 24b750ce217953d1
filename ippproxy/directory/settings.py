"""How to reach and read the directory: a frozen dataclass, built from the configuration.

Attribute names are settings because directories differ (OpenLDAP ``uid``, Active
Directory ``sAMAccountName``). ``tls`` chooses plain LDAP, StartTLS (RFC 4513 §3) or
LDAPS; with either TLS mode the server's certificate is always checked against
``ca_file`` (or the system's CAs) and its name.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from ippproxy.accounting.sync_plan import ALL_FIELDS, Field
from ippproxy.config import LdapConfig


class TlsMode(enum.StrEnum):
    NONE = "none"
    STARTTLS = "starttls"
    LDAPS = "ldaps"


@dataclass(frozen=True)
class UserAttributes:
    id: str = "uid"
    name: str = "cn"
    email: str = "mail"
    card_number: str = ""  # "" = not synced
    id_number: str = ""


@dataclass(frozen=True)
class LdapSettings:
    url: str  # ldap://host:port or ldaps://host:port
    base_dn: str
    bind_dn: str = ""  # "" = anonymous search
    bind_password: str = field(default="", repr=False)
    user_filter: str = "(objectClass=inetOrgPerson)"
    group_base_dn: str = ""  # "" = base_dn
    group_filter: str = ("(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)"
                         "(objectClass=posixGroup))")
    group_name: str = "cn"
    attributes: UserAttributes = UserAttributes()
    nested_groups: bool = True
    tls: TlsMode = TlsMode.NONE
    ca_file: str = ""  # "" = the system's CAs
    timeout: float = 10.0  # seconds, for connecting and for each answer
    page_size: int = 500
    overwrite: frozenset[Field] = ALL_FIELDS


def from_config(c: LdapConfig) -> LdapSettings | None:
    """The settings of the configuration's ``[ldap]`` (checked by config.from_dict);
    None when no directory is configured."""
    if not c.url:
        return None
    return LdapSettings(
        url=c.url, base_dn=c.base_dn, bind_dn=c.bind_dn, bind_password=c.bind_password,
        user_filter=c.user_filter, group_base_dn=c.group_base_dn,
        attributes=UserAttributes(c.id_attribute, c.name_attribute, c.email_attribute,
                                  c.card_attribute, c.id_number_attribute),
        nested_groups=c.nested_groups, tls=TlsMode(c.tls), ca_file=c.ca_file,
        timeout=c.timeout, overwrite=frozenset(Field(f) for f in c.overwrite))
