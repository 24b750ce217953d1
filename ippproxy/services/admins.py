"""Who may administer: the master ``admin`` account, the admin role of users, and the
sections a group's members may read or change; builds the ``Actor`` of a proven principal.

Roles (issue 13 §5):

* the master account ``admin`` (this package's table): every section, write. Its password
  is generated with ``secrets`` at first start (``ensure_master`` returns it once, for the
  caller to print) or set by ``ippproxy cmd set-password admin``; stored as argon2.
* a user with the admin role (``admin`` flag of the accounting package's user): every
  section, write.
* a user in groups with rights (``auth_group_rights``): per section, the highest access
  any of their groups grants. Everyone else logs in with no rights (deny by default).

Rights are read again on every request (``actor``): a role taken away, a user disabled or
a group's rights lowered apply to sessions already open.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, delete, insert, select, update

from ippproxy.accounting import directory
from ippproxy.accounting import users as accounting_users
from ippproxy.accounting.identity import canonical_name
from ippproxy.accounting.txn import in_transaction
from ippproxy.accounting.users import hash_secret, verify_secret
from ippproxy.db import reading
from ippproxy.db.base import utcnow
from ippproxy.directory import DirectoryError
from ippproxy.services.actor import Access, Actor, Section, Via
from ippproxy.services.auditsink import AuditSink, entry
from ippproxy.services.authmodels import MASTER, RIGHTS
from ippproxy.services.errors import Forbidden, Invalid, Unavailable

MASTER_NAME = "admin"
MIN_PASSWORD = 12


#: (canonical name, password) -> the name when the directory accepts it, else None;
#: raises DirectoryError when the directory cannot be asked.
ExternalPasswords = Callable[[str, str], str | None]


@dataclass(frozen=True)
class Principal:
    """Who proved their identity: the master account or a canonical user name."""

    name: str
    master: bool



def first_start_banner(password: str) -> str:
    """What the server prints, once, when it has just created the master account."""
    return (f"First start: the admin password is {password}\n"
            f"  log in as {MASTER_NAME!r} at /admin; change it with "
            f"'ippproxy cmd set-password {MASTER_NAME}'")


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise Invalid("password", f"at least {MIN_PASSWORD} characters")
    if any(ord(c) < 32 for c in password):
        raise Invalid("password", "no control characters")


class Admins:
    """Blocking (database and argon2): the web layer calls it in a thread."""

    def __init__(self, engine: Engine, audit: AuditSink, *, users: bool = True,
                 external: ExternalPasswords | None = None) -> None:
        self.engine = engine
        self.audit = audit
        self.users = users  # accounting is on: users may log in too
        # The password check of external users (an LDAP bind, directory/bind.py); None:
        # external users log in with a password stored here, like internal ones.
        self.external = external

    # -- the master account ---------------------------------------------------------
    def ensure_master(self) -> str | None:
        """Create the master account if there is none; its generated password, once."""
        password = secrets.token_urlsafe(18)

        def work(conn: Connection) -> bool:
            if conn.execute(select(MASTER.c.name)).first() is not None:
                return False
            now = utcnow()
            conn.execute(insert(MASTER).values(name=MASTER_NAME,
                                               password_hash=hash_secret(password),
                                               created_at=now, changed_at=now))
            return True
        created = in_transaction(self.engine, work)
        if created:
            self.audit.record(entry(Actor.system(), "admin.create", f"admin:{MASTER_NAME}"))
        return password if created else None

    def set_master_password(self, actor: Actor, password: str) -> None:
        if not actor.superuser:
            raise Forbidden("only the master account or the command line sets its password")
        check_password(password)
        hashed = hash_secret(password)

        def work(conn: Connection) -> None:
            now = utcnow()
            if conn.execute(update(MASTER).values(password_hash=hashed, changed_at=now)
                            ).rowcount == 0:
                conn.execute(insert(MASTER).values(name=MASTER_NAME, password_hash=hashed,
                                                   created_at=now, changed_at=now))
        in_transaction(self.engine, work)
        self.audit.record(entry(actor, "admin.set-password", f"admin:{MASTER_NAME}"))

    # -- proving who is asking ------------------------------------------------------
    def authenticate(self, name: str, password: str) -> Principal | None:
        """The principal whose password this is; None otherwise (same work either way).
        Raises Unavailable when an external user's directory cannot be asked."""
        try:
            canon = canonical_name(name)
        except ValueError:
            accounting_users.burn_verify(password)
            return None
        if canon == MASTER_NAME:
            with self.engine.connect() as conn:
                hashed = conn.execute(select(MASTER.c.password_hash)).scalar()
            return Principal(MASTER_NAME, True) if verify_secret(hashed, password) else None
        if not self.users:
            accounting_users.burn_verify(password)
            return None
        if self.external is not None and self._external_user(canon):
            try:
                accepted = self.external(canon, password)
            except DirectoryError:
                raise Unavailable("the user directory cannot be reached to check the "
                                  "password; try again later") from None
            return Principal(canon, False) if accepted == canon else None
        uid = in_transaction(self.engine,
                             lambda c: accounting_users.authenticate(c, canon, password))
        return None if uid is None else Principal(canon, False)

    def credential_stamp(self, principal: Principal) -> str:
        """A digest of the principal's stored password hash: it changes with every password
        set (argon2 salts each hash), so a login remembered under the old one is checked
        again ("": no password, or no such user). Read from the database: every node sees
        a change at once."""
        with self.engine.connect() as conn:
            if principal.master:
                hashed = conn.execute(select(MASTER.c.password_hash)).scalar()
            elif self.users:
                hashed = directory.password_hash(conn, principal.name)
            else:
                hashed = None
        return hashlib.sha256(hashed.encode()).hexdigest() if hashed else ""

    def _external_user(self, name: str) -> bool:
        """A live, enabled user who is not internal: the directory checks the password."""
        with self.engine.connect() as conn:
            row = accounting_users.find_user(conn, name)
        return row is not None and not row._mapping["internal"] and \
            not row._mapping["disabled"]

    def actor(self, principal: Principal, via: Via) -> Actor | None:
        """The principal's rights now; None when the user is gone or disabled."""
        if principal.master:
            return Actor(principal.name, via, superuser=True)
        if not self.users:
            return None
        with reading(self.engine) as conn:   # every web request: never the write lock
            profile = directory.admin_profile(conn, principal.name)
            if profile is None:
                return None
            admin, groups = profile
            if admin:
                return Actor(principal.name, via, superuser=True)
            rights = _rights(conn, groups)
        return Actor(principal.name, via, rights=tuple(sorted(rights.items())))

    # -- group rights ---------------------------------------------------------------
    def group_rights(self, actor: Actor, group: str) -> dict[Section, Access]:
        if not actor.may(Section.USERS, Access.READ):
            raise Forbidden("reading admin rights needs read access to users")
        name = _group_name(group)
        with self.engine.connect() as conn:
            return _rights(conn, frozenset({name}))

    def set_group_rights(self, actor: Actor, group: str,
                         rights: Mapping[Section, Access]) -> None:
        if not actor.superuser:
            raise Forbidden("only a full admin grants admin rights")
        name = _group_name(group)
        before = self.group_rights(actor, name)

        def work(conn: Connection) -> None:
            conn.execute(delete(RIGHTS).where(RIGHTS.c.group_name == name))
            rows = [{"group_name": name, "section": str(s), "access": int(a)}
                    for s, a in rights.items() if a > Access.NONE]
            if rows:
                conn.execute(insert(RIGHTS), rows)
        in_transaction(self.engine, work)
        self.audit.record(entry(actor, "group.rights", f"group:{name}",
                                {str(s): a.name for s, a in before.items()},
                                {str(s): a.name for s, a in rights.items()}))


def _group_name(raw: str) -> str:
    try:
        return canonical_name(raw)
    except ValueError as e:
        raise Invalid("name", str(e)) from None


def _rights(conn: Connection, groups: frozenset[str]) -> dict[Section, Access]:
    out: dict[Section, Access] = {}
    if not groups:
        return out
    for section, access in conn.execute(select(RIGHTS.c.section, RIGHTS.c.access)
                                        .where(RIGHTS.c.group_name.in_(sorted(groups)))):
        s = Section(section)
        out[s] = max(out.get(s, Access.NONE), Access(access))
    return out
