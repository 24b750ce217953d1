"""The tables of admin authentication: the master account, per-group admin rights,
sessions, API tokens and failed logins (migration ``0007_admin_auth``), and the users'
personal printer URLs (``0010_user_side``), their TOTP second factors (``0012_user_app``)
and the mark of a desktop login's session (``0016_desktop_login``).

The services package owns them (tests/test_table_ownership.py): the web layer reaches them
through ``services.admins``, ``services.sessions`` and ``services.tokens`` only. Secrets are
never stored: a session id and an API token are kept as their SHA-256 (they are 256-bit
random values from ``secrets``, so a plain hash is enough to make a stolen table useless),
the master password as an argon2 hash. Users and groups belong to the accounting package;
rows here name a group by its canonical name, never by a foreign key into its tables.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import cast

from sqlalchemy import (
    BigInteger,
    DateTime,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Uuid,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column

from ippproxy.db.base import Base


class MasterAdmin(Base):
    """The built-in ``admin`` account (one row), independent of any user directory."""

    __tablename__ = "auth_master"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(255))  # argon2
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    changed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class GroupRight(Base):
    """What the admins among a group's members may do in one section (actor.Access)."""

    __tablename__ = "auth_group_rights"
    group_name: Mapped[str] = mapped_column(String(255), primary_key=True)  # canonical
    section: Mapped[str] = mapped_column(String(16), primary_key=True)  # actor.Section
    access: Mapped[int] = mapped_column(SmallInteger)  # actor.Access


class AdminSession(Base):
    __tablename__ = "auth_sessions"
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 hex
    principal: Mapped[str] = mapped_column(String(255))  # "admin" or a canonical user name
    master: Mapped[bool] = mapped_column()
    csrf: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    # "" the web app's; "station:<printer>" a release station's (services/sessions.py).
    scope: Mapped[str] = mapped_column(String(300), default="", server_default="")
    # A desktop login (services/desktop_login.py, migration 0016): user rights only, even
    # for a user with admin rights.
    desktop: Mapped[bool] = mapped_column(server_default=false(), default=False)


class ApiToken(Base):
    __tablename__ = "auth_tokens"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 hex
    access: Mapped[int] = mapped_column(SmallInteger)  # actor.Access, READ or WRITE
    sections: Mapped[str] = mapped_column(String(128))  # comma-separated actor.Section
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True),
                                                             default=None)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True),
                                                           default=None)


class LoginFailure(Base):
    """One failed login, keyed ``user:<name>`` and ``addr:<address>`` (two rows)."""

    __tablename__ = "auth_login_failures"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(300))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    __table_args__ = (Index("ix_auth_login_failures_key_at", "key", "at"),)


class PrinterUrl(Base):
    """A user's personal printer URL (``/printers/NAME/u/SECRET``, issue 17): one per
    device the user names ("phone", "laptop"); the secret kept as its SHA-256 only, a
    revoked URL kept listed (migration ``0010_user_side``)."""

    __tablename__ = "auth_printer_urls"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    principal: Mapped[str] = mapped_column(String(255))  # the owner's canonical name
    name: Mapped[str] = mapped_column(String(64))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 hex
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True),
                                                             default=None)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True),
                                                           default=None)
    __table_args__ = (Index("ix_auth_printer_urls_principal", "principal"),)


class TotpFactor(Base):
    """A principal's TOTP second factor (RFC 6238; migration ``0012_user_app``): the base32
    secret (pending while ``confirmed_at`` is null), and the last time step accepted, so
    each code signs in once."""

    __tablename__ = "auth_totp"
    principal: Mapped[str] = mapped_column(String(255), primary_key=True)  # canonical
    secret: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True),
                                                             default=None)
    last_step: Mapped[int | None] = mapped_column(BigInteger, default=None)


MASTER = cast(Table, MasterAdmin.__table__)
RIGHTS = cast(Table, GroupRight.__table__)
SESSIONS = cast(Table, AdminSession.__table__)
TOKENS = cast(Table, ApiToken.__table__)
FAILURES = cast(Table, LoginFailure.__table__)
PRINTER_URLS = cast(Table, PrinterUrl.__table__)
TOTP = cast(Table, TotpFactor.__table__)
