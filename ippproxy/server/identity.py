"""Who is asking, as proven by the HTTP layer, and the authority that proves it.

An ``Identity`` with ``name`` set was proven: HTTP Basic over TLS (RFC 7617), an API token
(``Authorization: Bearer``, RFC 6750 §2.1) or the peer credentials of the local Unix socket
(SO_PEERCRED, as cupsd's ``PeerCred``). ``requesting-user-name`` proves nothing: it names the
owner of a job on an open queue and never makes anyone an admin. ``admin`` is true for the
master admin, users with the admin role, principals whose groups may change the printers'
section, and uid 0 on the Unix socket.

The authority (``services.ipp_logins.IppLogins``, wired by ``app.py``) is blocking: it reads
the database and runs argon2, so callers run it in a thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Identity:
    name: str | None = None     # the proven canonical name; None: nobody proven
    admin: bool = False

    @property
    def proven(self) -> bool:
        return self.name is not None


NOBODY = Identity()


class Login(Protocol):
    """A proven principal as the authority reports it."""

    @property
    def name(self) -> str: ...

    @property
    def admin(self) -> bool: ...

    @property
    def stamp(self) -> str:
        """Changes when the principal's password does (a remembered login then ends)."""
        ...


class Authority(Protocol):
    def password(self, user: str, password: str, address: str) -> Login | float | None:
        """The principal, None for wrong credentials, or the seconds to wait (throttled:
        the password was not even checked)."""
        ...

    def token(self, secret: str) -> Login | None:
        """The principal of a live API token, else None."""
        ...

    def printer_url(self, secret: str) -> Login | None:
        """The owner of a live personal printer URL (``/printers/NAME/u/SECRET``)."""
        ...

    def current(self, name: str) -> Login | None:
        """The principal as it is now (None: gone or disabled): a cached login is checked
        with this on every request."""
        ...
