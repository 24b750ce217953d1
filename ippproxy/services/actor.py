"""Who performs an operation, as proven by the layer that called the service.

The web layer builds an ``Actor`` from a session cookie or an API token, ``ippproxy cmd``
from the operator at the machine (``Actor.system``); a service never trusts a name it was
merely told. Rights are per section (the admin app's menu): a group's admins may be given
some sections only, read or write (issue 13, "admin privileges per group").
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Section(enum.StrEnum):
    """The parts of the admin side a right is granted on."""

    USERS = "users"
    FINANCE = "finance"
    PRINTERS = "printers"
    OPTIONS = "options"
    AUDIT = "audit"


class Access(enum.IntEnum):
    """What an actor may do in a section; a higher value includes the lower ones."""

    NONE = 0
    READ = 1
    WRITE = 2


class Via(enum.StrEnum):
    """How the actor came in (recorded in the audit log)."""

    SESSION = "session"   # web page, cookie session
    TOKEN = "token"       # API token
    COMMAND = "command"   # ippproxy cmd on the server itself
    IPP = "ipp"           # an IPP client: HTTP Basic or an API token on the print port
    SYSTEM = "system"     # the server acting on its own (provisioning at start)


@dataclass(frozen=True)
class Actor:
    name: str
    via: Via
    rights: tuple[tuple[Section, Access], ...] = ()
    # Set for the master admin and users with the admin role: every section, write.
    superuser: bool = False

    def access(self, section: Section) -> Access:
        if self.superuser:
            return Access.WRITE
        return max((a for s, a in self.rights if s == section), default=Access.NONE)

    def may(self, section: Section, access: Access) -> bool:
        return self.access(section) >= access

    @classmethod
    def system(cls, name: str = "system", via: Via = Via.SYSTEM) -> Actor:
        """The server itself, or an operator at its command line (``Via.COMMAND``):
        whoever can run ``ippproxy cmd`` can already read the database."""
        return cls(name=name, via=via, superuser=True)
