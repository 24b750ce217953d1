"""User source sync against a throwaway slapd (SQLite and PostgreSQL): preview, apply,
groups of every shape and nesting, overwrite fields, deletes only when asked, a second sync
that writes nothing, and a directory that is down or slow (nothing written or deleted)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
from ldap_seed import PEOPLE, person, settings
from sqlalchemy import Engine, event
from support.slapd import Slapd

from ippproxy.accounting import InvalidOperation, users
from ippproxy.accounting.directory import user as user_view
from ippproxy.accounting.sync_plan import Field
from ippproxy.accounting.txn import in_transaction
from ippproxy.directory import DirectoryError
from ippproxy.directory.sync import DirectorySync

DEFAULTS = users.UserDefaults("EUR", 250, True, 0)


def sync(engine: Engine, d: Slapd, **changes: object) -> DirectorySync:
    return DirectorySync(engine, settings(d, **changes), DEFAULTS)


def view(engine: Engine, name: str) -> dict[str, object] | None:
    with engine.connect() as c:
        return user_view(c, name)


def test_preview_then_apply(engine: Engine, seeded: Slapd) -> None:
    s = sync(engine, seeded)
    preview = s.preview()
    assert [u.name for u in preview.adds] == ["alice", "bob", "jason", "sonja"]
    assert preview.new_groups == ("admins", "lab", "staff", "unix")
    assert view(engine, "alice") is None                       # a preview writes nothing
    result = s.apply()
    assert result.applied
    alice = view(engine, "alice")
    assert alice is not None
    assert (alice["full_name"], alice["email"], alice["groups"], alice["balance"]) == \
        ("Alice Archer", "alice@example.org", ["staff"], 250)
    assert view(engine, "bob")["groups"] == ["admins", "staff"]     # nested   # type: ignore[index]
    assert view(engine, "SONJA")["groups"] == ["lab"]                # uniqueMember  # type: ignore[index]
    assert view(engine, "jason")["groups"] == ["unix"]               # posixGroup  # type: ignore[index]


def test_second_sync_writes_nothing(engine: Engine, seeded: Slapd) -> None:
    s = sync(engine, seeded)
    s.apply()
    writes: list[str] = []

    def count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        if statement.lstrip().split()[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            writes.append(statement)
    event.listen(engine, "before_cursor_execute", count)
    try:
        again = s.apply()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert again.plan.is_empty() and not again.applied
    assert writes == []


def test_changes_respect_overwrite_fields(engine: Engine, seeded: Slapd) -> None:
    sync(engine, seeded).apply()
    with seeded.admin() as c:
        c.modify(f"uid=alice,{PEOPLE}", {"cn": [("MODIFY_REPLACE", ["Alice Cooper"])],
                                        "mail": [("MODIFY_REPLACE", ["ac@example.org"])]})
    names_only = sync(engine, seeded, overwrite=frozenset({Field.FULL_NAME}))
    plan = names_only.preview()
    assert [(c.name, dict(c.fields)) for c in plan.changes] == \
        [("alice", {Field.FULL_NAME: ("Alice Archer", "Alice Cooper")})]
    names_only.apply()
    alice = view(engine, "alice")
    assert alice is not None and (alice["full_name"], alice["email"]) == \
        ("Alice Cooper", "alice@example.org")


def test_missing_users_deleted_only_when_asked(engine: Engine, seeded: Slapd) -> None:
    s = sync(engine, seeded)
    s.apply()
    in_transaction(engine, lambda c: users.add_user(c, "local", defaults=DEFAULTS))
    with seeded.admin() as c:
        assert c.delete(f"uid=jason,{PEOPLE}")
    result = s.apply()
    assert result.plan.deletes == ("jason",) and result.deleted == 0
    assert view(engine, "jason") is not None
    result = s.apply(delete_missing=True)
    assert result.deleted == 1
    assert view(engine, "jason") is None
    assert view(engine, "local") is not None      # not from the directory: never deleted


def test_case_variants_and_bad_names_are_one_user(engine: Engine, slapd: Slapd) -> None:
    person(slapd, "Dora", "Dora One")
    slapd.add(f"cn=dora2,{PEOPLE}", ["inetOrgPerson"], {"cn": "dora2", "sn": "x", "uid": "DORA"})
    plan = sync(engine, slapd).preview()
    assert [u.name for u in plan.adds] == ["dora"]
    assert any("appears twice" in w for w in plan.warnings)


class _Silent:
    """A TCP server that accepts and never answers: a slow directory."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def close(self) -> None:
        self.sock.close()
        for c in self.held:
            c.close()


@pytest.fixture
def silent() -> Iterator[_Silent]:
    s = _Silent()
    yield s
    s.close()


def test_down_or_slow_directory_fails_and_deletes_nothing(engine: Engine, seeded: Slapd,
                                                          silent: _Silent) -> None:
    sync(engine, seeded).apply()
    seeded.stop()
    with pytest.raises(DirectoryError, match="unreachable"):
        sync(engine, seeded).apply(delete_missing=True)
    slow = sync(engine, seeded, url=f"ldap://127.0.0.1:{silent.port}", timeout=1.0)
    with pytest.raises(DirectoryError):
        slow.apply(delete_missing=True)
    for name in ("alice", "bob", "jason", "sonja"):
        assert view(engine, name) is not None


def test_card_number_of_another_user_fails_the_sync(engine: Engine, seeded: Slapd) -> None:
    in_transaction(engine, lambda c: users.add_user(c, "local", defaults=DEFAULTS,
                                                    card_number="04A1B2C3"))
    with pytest.raises(InvalidOperation, match="card number 04A1B2C3 is already user 'local'"):
        sync(engine, seeded).apply()
    assert view(engine, "bob") is None                     # all or nothing
