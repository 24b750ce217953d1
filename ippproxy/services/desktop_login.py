"""The desktop login (issue 17): ``ippproxy-client`` logs in as the desktop user where the
admin trusts that (``users.trust_desktop_user``, off by default).

Theory of operation. The web layer hands over the uid the kernel recorded for the peer of
the local Unix socket (SO_PEERCRED, server/authn.py ``peer_uid``); nothing the client says
names the user. The uid's name in the password database (``pwd.getpwuid``), made canonical
as every user name is, must be a live, enabled user of the user store; the answer is that
user's principal, never the master account.

A desktop login is a *user* session: the web layer gives it no admin rights even when the
user has the admin role or a group's rights, and uid 0 or the server's own uid get nothing
more than any other uid. That is not the IPP rule of the same socket (server/identity.py:
there root may pause a printer, as with cupsd's ``PeerCred``): an IPP admin operation is one
request of a local tool, a session is a cookie that outlives the process that asked for it.

Users are not created here, even where ``accounting.unknown_users = "create"`` creates them on
their first job: that creation gives a balance, a group and its defaults to someone who
printed; a login must not make an account (with its initial credit) for every local account
of the machine (``www-data``, ``nobody``). A user that prints first logs in afterwards.

The second factor stays: the socket proves the OS login instead of the password, but a user
who turned two-step sign-in on is still asked for the code (``web/desktop_login.py``).
"""

from __future__ import annotations

import pwd

from ippproxy.accounting.identity import canonical_name
from ippproxy.services.actor import Via
from ippproxy.services.admins import MASTER_NAME, Admins, Principal
from ippproxy.services.errors import Forbidden


class DesktopLogins:
    """Blocking (the database): the web layer calls it in a thread."""

    def __init__(self, admins: Admins, socket: str) -> None:
        self.admins = admins
        self.socket = socket   # server.unix_socket: where the client asks (shown to users)

    def principal(self, uid: int) -> Principal:
        """The user whose OS account ``uid`` is; ``Forbidden`` saying why not."""
        try:
            os_name = pwd.getpwuid(uid).pw_name
        except KeyError:
            raise Forbidden(f"uid {uid} has no name in this machine's password database, "
                            "so it names no user") from None
        return self.named(os_name)

    def named(self, os_name: str) -> Principal:
        """The user an OS account name (from the password database, never from a client)
        is; ``Forbidden`` saying why not."""
        try:
            name = canonical_name(os_name)
        except ValueError:
            raise Forbidden(f"the desktop user {os_name!r} is not a valid user name") from None
        if name == MASTER_NAME:
            # The master account is not a user: its name on this machine proves nothing.
            raise Forbidden(f"the desktop user {name!r} is the master account's name; it "
                            "logs in with its password")
        if self.admins.actor(Principal(name, False), Via.SESSION) is None:
            raise Forbidden(f"the desktop user {name!r} is not an enabled user of this "
                            "print server")
        return Principal(name, False)
