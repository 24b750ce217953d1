"""Schema, migration and identities, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from ippproxy.accounting import ledger, users
from ippproxy.accounting.errors import AccessDenied, InvalidOperation
from ippproxy.accounting.identity import canonical_name
from ippproxy.accounting.models import ACCOUNTS, USERS
from ippproxy.db.base import Base

DEFAULTS = users.UserDefaults("EUR", 500, True, 0)


def test_migration_matches_models(engine: Engine) -> None:
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = [d for d in compare_metadata(ctx, Base.metadata) if "acct_" in repr(d)]
    assert diffs == []


def test_canonical_names() -> None:
    assert canonical_name("ADMIN") == canonical_name(" admin ") == "admin"
    assert canonical_name("ＡＤＭＩＮ") == "admin"  # fullwidth, NFKC
    assert canonical_name("Straße") == "strasse"
    for bad in ("", "   ", "a\nb", "a\x00b", "x" * 300):
        with pytest.raises(ValueError):
            canonical_name(bad)


def _by_the_rule(raw: str) -> str | None:
    """The case policy as identity.py states it, with no shortcut (None: refused)."""
    import unicodedata
    name = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", raw.strip()).casefold())
    name = name.strip()
    if not name or len(name) > 255 or any(
            unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in name):
        return None
    return name


@given(st.text(alphabet=st.characters(max_codepoint=127), min_size=0, max_size=12))
def test_the_ascii_shortcut_is_the_rule(raw: str) -> None:
    """canonical_name takes a shortcut for ASCII names (every print job looks its owner
    up); it must give what the rule gives, refusals included."""
    try:
        got: str | None = canonical_name(raw)
    except ValueError:
        got = None
    assert got == _by_the_rule(raw)


def test_every_ascii_character_by_the_rule() -> None:
    for c in map(chr, range(128)):     # alone, inside a name, at its edges
        for name in (c, f"a{c}b", f" {c}X ", f"{c}{c}"):
            try:
                got: str | None = canonical_name(name)
            except ValueError:
                got = None
            assert got == _by_the_rule(name), repr(name)


@given(st.text(min_size=1, max_size=40))
def test_canonical_name_is_a_fixed_point(raw: str) -> None:
    try:
        once = canonical_name(raw)
    except ValueError:
        return
    assert canonical_name(once) == once


def test_case_variants_are_one_identity(engine: Engine) -> None:
    with engine.begin() as conn:
        admin = users.add_user(conn, "admin", defaults=DEFAULTS, internal=True,
                               password="s3cret-pass")
        users.set_user_property(conn, "admin", "admin", "true")
        # "ADMIN" is not a second user who could hold other rights or balance.
        with pytest.raises(InvalidOperation):
            users.add_user(conn, "ADMIN", defaults=DEFAULTS)
        assert users.get_user(conn, "ADMIN")._mapping["id"] == admin
        assert users.authenticate(conn, "Admin", "s3cret-pass") == admin
        assert users.authenticate(conn, "admin", "wrong") is None
        assert users.authenticate(conn, "nobody", "s3cret-pass") is None
        names = conn.execute(select(USERS.c.username)).scalars().all()
    assert names == ["admin"]


def test_logical_delete_frees_the_name_not_the_money(engine: Engine) -> None:
    with engine.begin() as conn:
        old = users.add_user(conn, "bob", defaults=DEFAULTS)
        users.delete_user(conn, "BOB")
        new = users.add_user(conn, "bob", defaults=users.UserDefaults("EUR"))
        assert new != old
        old_acct = users.personal_account(conn, old)._mapping
        new_acct = users.personal_account(conn, new)._mapping
        assert old_acct["balance"] == 500 and old_acct["disabled"]
        assert new_acct["balance"] == 0
        assert ledger.audit(conn) == []


def test_initial_balance_is_a_ledger_row(engine: Engine) -> None:
    with engine.begin() as conn:
        uid = users.add_user(conn, "carol", defaults=DEFAULTS)
        acct = users.personal_account(conn, uid)._mapping
        rows = ledger.entries(conn, account_id=acct["id"])
    assert [(r.amount, r.balance_after, r.kind) for r in rows] == [(500, 500, "initial")]


def test_shared_account_access_and_pin(engine: Engine) -> None:
    with engine.begin() as conn:
        dave = users.add_user(conn, "dave", defaults=DEFAULTS)
        erin = users.add_user(conn, "erin", defaults=DEFAULTS)
        users.add_group(conn, "Physics")
        users.add_member(conn, "physics", "ERIN")
        users.add_shared_account(conn, "Research", "R1", currency="EUR", pin="1234")
        users.add_shared_account(conn, "Research / lab", "R1-LAB", currency="EUR",
                                 parent_code="R1")
        users.grant_account(conn, "R1", group="PHYSICS")
        lab = users.shared_account(conn, "R1-LAB")
        users.check_access(conn, erin, lab, None)  # inherited from the parent, no PIN on lab
        r1 = users.shared_account(conn, "R1")
        users.check_access(conn, erin, r1, "1234")
        with pytest.raises(AccessDenied):
            users.check_access(conn, erin, r1, "0000")
        with pytest.raises(AccessDenied):
            users.check_access(conn, dave, lab, None)
        users.grant_account(conn, "R1-LAB", user="dave")
        users.check_access(conn, dave, lab, None)


def test_user_properties(engine: Engine) -> None:
    with engine.begin() as conn:
        uid = users.add_user(conn, "frank", defaults=DEFAULTS)
        users.set_user_property(conn, "frank", "full-name", "Frank Zappa")
        users.set_user_property(conn, "frank", "card-number", "04A1B2C3")
        users.set_user_property(conn, "frank", "restricted", "false")
        users.set_user_property(conn, "frank", "password", "pw-frank-1")
        assert users.authenticate(conn, "frank", "pw-frank-1") == uid
        users.set_user_property(conn, "frank", "disabled", "true")
        assert users.authenticate(conn, "frank", "pw-frank-1") is None
        with pytest.raises(InvalidOperation):
            users.set_user_property(conn, "frank", "shoe-size", "44")
        row = users.get_user(conn, "frank")._mapping
        assert row["full_name"] == "Frank Zappa" and row["card_number"] == "04A1B2C3"
        restricted = conn.execute(select(ACCOUNTS.c.restricted)
                                  .where(ACCOUNTS.c.owner_id == uid)).scalar()
    assert restricted is False
