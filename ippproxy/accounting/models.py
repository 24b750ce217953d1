"""Accounting tables: users, groups, accounts, the ledger, job charges.

Money is ``BigInteger`` minor units (cents for EUR) with the currency code on
the account. Invariant kept by :mod:`ippproxy.accounting.ledger`, the only
writer of ``accounts.balance``::

    account.balance == account.opening_balance + sum(ledger.amount for that account)

Users and groups carry canonical names only (see :mod:`.identity`). Deleting a
user is logical (``deleted_at``); the partial unique index on ``username``
covers live users only, so a new user may reuse the name of a deleted one
(SavaPage §4.4.6) without inheriting anything: the new row has a new UUID.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import cast

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    Uuid,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from ippproxy.db.base import Base, utcnow


class User(Base):
    __tablename__ = "acct_users"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    username: Mapped[str] = mapped_column(String(255))  # canonical (identity.canonical_name)
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    password_hash: Mapped[str | None] = mapped_column(String(255), default=None)  # argon2
    full_name: Mapped[str] = mapped_column(String(255), default="")
    email: Mapped[str | None] = mapped_column(String(255), default=None)
    card_number: Mapped[str | None] = mapped_column(String(64), default=None)
    admin: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    deleted_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True),
                                                           default=None)
    __table_args__ = (
        Index("uq_acct_users_username_live", "username", unique=True,
              sqlite_where=text("deleted_at IS NULL"),
              postgresql_where=text("deleted_at IS NULL")),
        Index("uq_acct_users_card_live", "card_number", unique=True,
              sqlite_where=text("deleted_at IS NULL AND card_number IS NOT NULL"),
              postgresql_where=text("deleted_at IS NULL AND card_number IS NOT NULL")),
        # The user list of live users by name, covering the id and the email: a page deep
        # in the list, and a search for a fragment of a name or an email, read the index
        # alone, not the wider rows (PostgreSQL: index-only scans). Migration 0014_user_list.
        Index("ix_acct_users_live_name", "username", "id", "email",
              sqlite_where=text("deleted_at IS NULL"),
              postgresql_where=text("deleted_at IS NULL")),
        # The user list of live users sorted by email, no email as "", covering the id
        # (userlist.py: a page deep in the list reads no rows). Migration 0014_user_list.
        Index("ix_acct_users_email", text("coalesce(email, '')"), "id",
              sqlite_where=text("deleted_at IS NULL"),
              postgresql_where=text("deleted_at IS NULL")),
    )


class Group(Base):
    __tablename__ = "acct_groups"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(255), unique=True)  # canonical
    # Defaults for users created on first print (issue 5 §2).
    initial_balance: Mapped[int] = mapped_column(BigInteger, default=0)
    initial_restricted: Mapped[bool] = mapped_column(Boolean, default=True)
    initial_credit_limit: Mapped[int] = mapped_column(BigInteger, default=0)
    # Scheduled allocation (quota.py): "", "daily", "weekly" or "monthly".
    quota_period: Mapped[str] = mapped_column(String(16), default="")
    quota_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    quota_cap: Mapped[int | None] = mapped_column(BigInteger, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Price multiplier as a decimal string ("0.5": half price); declared by the
    # configuration file's [[group]] (read-only through the services) when provisioned.
    # Migration 0006_catalog.
    multiplier: Mapped[str] = mapped_column(String(32), default="1", server_default="1")
    provisioned: Mapped[bool] = mapped_column(Boolean, default=False,
                                              server_default=false())


class Membership(Base):
    __tablename__ = "acct_memberships"
    group_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("acct_groups.id", ondelete="CASCADE"),
                                                primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("acct_users.id", ondelete="CASCADE"),
                                               primary_key=True)
    # A user's groups (the user list reads a page of users' groups at once; the primary
    # key leads with the group). Migration 0014_user_list.
    __table_args__ = (Index("ix_acct_memberships_user", "user_id"),)


class Account(Base):
    __tablename__ = "acct_accounts"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    kind: Mapped[str] = mapped_column(String(16))  # "personal" | "shared"
    owner_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("acct_users.id"),
                                                       unique=True, default=None)
    name: Mapped[str] = mapped_column(String(255), default="")
    code: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    pin_hash: Mapped[str | None] = mapped_column(String(255), default=None)  # argon2
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("acct_accounts.id"),
                                                        default=None)
    currency: Mapped[str] = mapped_column(String(3))
    opening_balance: Mapped[int] = mapped_column(BigInteger, default=0)
    balance: Mapped[int] = mapped_column(BigInteger, default=0)
    restricted: Mapped[bool] = mapped_column(Boolean, default=True)
    # Overdraft for restricted accounts: the balance may go down to -credit_limit.
    credit_limit: Mapped[int] = mapped_column(BigInteger, default=0)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    __table_args__ = (
        CheckConstraint("kind IN ('personal', 'shared')", name="kind"),
        CheckConstraint("credit_limit >= 0", name="credit_limit"),
    )


class AccountAccess(Base):
    """Who may charge a shared account: one user or one group per row."""

    __tablename__ = "acct_access"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("acct_accounts.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("acct_users.id", ondelete="CASCADE"), default=None)
    group_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("acct_groups.id", ondelete="CASCADE"), default=None)
    __table_args__ = (
        CheckConstraint("(user_id IS NULL) <> (group_id IS NULL)", name="one_grantee"),
    )


class LedgerEntry(Base):
    __tablename__ = "acct_ledger"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True, autoincrement=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("acct_accounts.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)  # negative = debit
    balance_after: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))  # ledger.Kind
    reason: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(255), default="")
    job_uuid: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True, default=None)
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class JobCharge(Base):
    """One row per charged job: what was estimated, what is charged now, its state."""

    __tablename__ = "acct_job_charges"
    job_uuid: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("acct_accounts.id"), index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("acct_users.id"), index=True)
    printer: Mapped[str] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(16))  # service.ChargeState
    estimate: Mapped[int] = mapped_column(BigInteger)
    fee: Mapped[int] = mapped_column(BigInteger, default=0)  # fixed part of the estimate
    impressions: Mapped[int] = mapped_column(BigInteger, default=0)  # our count
    reported_impressions: Mapped[int | None] = mapped_column(BigInteger, default=None)
    charged: Mapped[int] = mapped_column(BigInteger)  # net debit on the account, >= 0
    refunded: Mapped[int] = mapped_column(BigInteger, default=0)  # admin refunds so far
    refunds: Mapped[int] = mapped_column(Integer, default=0)  # number of admin refunds
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # The storage.node that reserved it ("": a single node; NULL: before migration 0008).
    node: Mapped[str | None] = mapped_column(String(255), default=None)
    # The settled or refunded amount is written back into the job (charges.unrecorded).
    recorded: Mapped[bool] = mapped_column(Boolean, default=False,
                                           server_default=false())
    __table_args__ = (
        Index("ix_acct_job_charges_unrecorded", "job_uuid",
              sqlite_where=text("recorded = 0"), postgresql_where=text("NOT recorded")),
    )



class UserRole(Base):
    """A user's own role state (roles.py); no row = indeterminate. Migration 0011_users."""

    __tablename__ = "acct_user_roles"
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("acct_users.id", ondelete="CASCADE"),
                                               primary_key=True)
    role: Mapped[str] = mapped_column(String(32), primary_key=True)  # roles.Role
    enabled: Mapped[bool] = mapped_column(Boolean)


class GroupRole(Base):
    """A group's role state; no row = indeterminate. Migration 0011_users."""

    __tablename__ = "acct_group_roles"
    group_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("acct_groups.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(32), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean)


class BuiltinGroupRole(Base):
    """A role state of a built-in group (roles.BuiltinGroup: Internal Users, External
    Users, All Users), which have no members' rows. Migration 0011_users."""

    __tablename__ = "acct_builtin_roles"
    builtin: Mapped[str] = mapped_column(String(32), primary_key=True)
    role: Mapped[str] = mapped_column(String(32), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean)



class UserProfile(Base):
    """Per-user data kept beside acct_users: the ID number and where the user came from
    ("ldap" for users a directory sync created; "" otherwise). Migration 0011_users."""

    __tablename__ = "acct_user_profile"
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("acct_users.id", ondelete="CASCADE"),
                                               primary_key=True)
    id_number: Mapped[str | None] = mapped_column(String(64), default=None)
    source: Mapped[str] = mapped_column(String(16), default="")
    # The edit-user fields (issue 18), migration 0013_user_edit: the user's PIN (argon2), the UUID
    # token (created at first login), a functional ("abstract") account, where the credit
    # limit comes from ("individual" or "group": the group's default) and when the
    # personal data were erased (GDPR).
    pin_hash: Mapped[str | None] = mapped_column(String(255), default=None)
    uuid_token: Mapped[str | None] = mapped_column(String(36), default=None)
    abstract: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    credit_source: Mapped[str] = mapped_column(String(16), default="individual",
                                               server_default="individual")
    erased_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True),
                                                          default=None)


class UserEmail(Base):
    """A user's e-mail addresses; position 0 is the primary one. Migration 0013_user_edit."""

    __tablename__ = "acct_user_emails"
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("acct_users.id", ondelete="CASCADE"),
                                               primary_key=True)
    email: Mapped[str] = mapped_column(String(255), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer)


class PagometerReset(Base):
    """One reset of every user's pagometer (SavaPage §4.4.1): a user's pagometer counts
    from the latest reset or the user's creation, whichever is later. Migration 0014_user_list."""

    __tablename__ = "acct_pagometer_resets"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    reset_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor: Mapped[str] = mapped_column(String(255))


# Typed handles on the tables for Core statements (``Model.__table__`` is a FromClause).
USERS = cast(Table, User.__table__)
GROUPS = cast(Table, Group.__table__)
MEMBERS = cast(Table, Membership.__table__)
ACCOUNTS = cast(Table, Account.__table__)
ACCESS = cast(Table, AccountAccess.__table__)
LEDGER = cast(Table, LedgerEntry.__table__)
CHARGES = cast(Table, JobCharge.__table__)
USER_ROLES = cast(Table, UserRole.__table__)
GROUP_ROLES = cast(Table, GroupRole.__table__)
BUILTIN_ROLES = cast(Table, BuiltinGroupRole.__table__)
USER_PROFILE = cast(Table, UserProfile.__table__)
USER_EMAILS = cast(Table, UserEmail.__table__)
PAGOMETER_RESETS = cast(Table, PagometerReset.__table__)
