"""Fixtures: a throwaway slapd (tests/support/slapd.py), a seeded directory, a migrated
engine on SQLite and on a throwaway PostgreSQL cluster."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from ldap_seed import group, person
from sqlalchemy import Engine
from support.postgres import db_url, pg_url, postgres_cluster  # noqa: F401
from support.slapd import Slapd, slapd  # noqa: F401

from ippproxy.db import make_engine, upgrade


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:  # noqa: F811
    eng = make_engine(db_url)
    upgrade(eng)
    try:
        yield eng
    finally:
        eng.dispose()


@pytest.fixture
def seeded(slapd: Slapd) -> Slapd:  # noqa: F811
    """jason, sonja, alice (card, ID), bob; staff (groupOfNames) holds alice and the nested
    group admins (bob); lab (groupOfUniqueNames) holds sonja; unix (posixGroup) jason."""
    alice = person(slapd, "alice", "Alice Archer", password="alice-pw", mail="alice@example.org",
                   card="04A1B2C3", number="100001")
    bob = person(slapd, "bob", "Bob Baker", password="bob-pw", mail="bob@example.org")
    sonja = person(slapd, "Sonja", "Sonja Smith", mail="sonja@example.org")
    person(slapd, "jason", "Jason Jones")
    admins = group(slapd, "admins", [bob])
    group(slapd, "staff", [alice, admins])
    group(slapd, "lab", [sonja], "groupOfUniqueNames")
    group(slapd, "unix", ["jason"], "posixGroup")
    return slapd
