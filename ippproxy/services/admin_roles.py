"""Who is an admin, changed by an admin; and one's own password, changed by oneself.

* ``set_user_admin``: the admin role of one user (issue 13 §5), granted or taken back by a
  full admin (the master account or a user with the role), audited with before and after.
  The change applies at the next request of that user (``Admins.actor`` reads rights on
  every request), IPP logins included.
* ``set_group_admin``: a group's members made full admins of every section (write), or
  of none: the shorthand of ``Admins.set_group_rights`` for all sections.
* ``change_own_password``: the master account's password or a user's own, from a
  session only (an API token cannot: a leaked token must not take over its account), with
  the current password proven again; the new one obeys ``check_password``. The caller ends
  the principal's sessions; remembered IPP logins end by themselves (their stamp changes,
  ``Admins.credential_stamp``).
"""

from __future__ import annotations

from sqlalchemy import Connection

from ippproxy.accounting import errors as accounting_errors
from ippproxy.accounting import users as accounting_users
from ippproxy.accounting.identity import canonical_name
from ippproxy.accounting.txn import in_transaction
from ippproxy.services.actor import Access, Actor, Section, Via
from ippproxy.services.admins import MASTER_NAME, Admins, Principal, check_password
from ippproxy.services.auditsink import entry
from ippproxy.services.errors import Forbidden, Invalid, NotFound


def _user_name(raw: str) -> str:
    try:
        return canonical_name(raw)
    except ValueError as e:
        raise Invalid("name", str(e)) from None


class AdminRoles:
    """Blocking (database, argon2): the web layer calls it in a thread."""

    def __init__(self, admins: Admins) -> None:
        self.admins = admins

    def set_user_admin(self, actor: Actor, username: str, admin: bool) -> None:
        if not actor.superuser:
            raise Forbidden("only a full admin grants or takes back the admin role")
        if not self.admins.users:
            raise NotFound("directory", "users (accounting is off)")
        name = _user_name(username)

        def work(conn: Connection) -> bool:
            try:
                row = accounting_users.get_user(conn, name)
            except accounting_errors.NotFound:
                raise NotFound("user", name) from None
            was = bool(row._mapping["admin"])
            accounting_users.set_user_property(conn, name, "admin", "true" if admin else "false")
            return was
        was = in_transaction(self.admins.engine, work)
        self.admins.audit.record(entry(actor, "user.admin", f"user:{name}",
                                       {"admin": was}, {"admin": admin}))

    def set_group_admin(self, actor: Actor, group: str, admin: bool) -> dict[Section, Access]:
        rights = {s: Access.WRITE if admin else Access.NONE for s in Section}
        self.admins.set_group_rights(actor, group, rights)
        return rights

    def change_own_password(self, actor: Actor, current: str, new: str) -> Principal:
        """The actor's own password; returns the principal (whose sessions should end)."""
        if actor.via != Via.SESSION:
            raise Forbidden("a password is changed from a logged-in session, not with a token")
        principal = Principal(actor.name, actor.name == MASTER_NAME)
        if self.admins.authenticate(actor.name, current) != principal:
            raise Invalid("current_password", "this is not the current password")
        if new == current:
            raise Invalid("new_password", "the same as the current password")
        try:
            check_password(new)
        except Invalid as e:
            raise Invalid("new_password", e.reason) from None
        if principal.master:
            self.admins.set_master_password(Actor(MASTER_NAME, actor.via, superuser=True), new)
            return principal
        in_transaction(self.admins.engine, lambda c: accounting_users.set_user_property(
            c, principal.name, "password", new))
        self.admins.audit.record(entry(actor, "user.set-password", f"user:{principal.name}"))
        return principal
