"""``ippproxy cmd list-users`` with the user list's selection and sort (``main(argv)`` on
a real database, SQLite and PostgreSQL): each filter, its either choice, the sorts, the
old ``--deleted`` flag, a bad value refused with a reason."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import Connection

from ippproxy.accounting import users
from ippproxy.accounting.cmd import main
from ippproxy.accounting.txn import in_transaction
from ippproxy.db import make_engine, upgrade

PEOPLE = [("jason", "jay@example.org", False, False, False, False, ("staff",)),
          ("sonja", "sonja@example.org", True, False, False, False, ()),
          ("bert", "b.johnson@example.org", False, True, False, False, ("staff",)),
          ("carl", None, True, False, True, False, ()),
          ("anna", "anna@example.org", False, False, False, False, ()),
          ("gone", "gone@example.org", False, False, False, True, ())]


@pytest.fixture
def url(db_url: str) -> str:
    engine = make_engine(db_url)
    upgrade(engine)

    def work(conn: Connection) -> None:
        users.add_group(conn, "staff")
        for name, email, internal, admin, disabled, deleted, groups in PEOPLE:
            users.add_user(conn, name, defaults=users.UserDefaults(balance=100),
                           internal=internal, email=email, groups=groups)
            for prop, on in (("admin", admin), ("disabled", disabled)):
                if on:
                    users.set_user_property(conn, name, prop, "true")
            if deleted:
                users.delete_user(conn, name)
    in_transaction(engine, work)
    engine.dispose()
    return db_url


def names(url: str, capsys: pytest.CaptureFixture[str], *args: str) -> list[str]:
    capsys.readouterr()
    assert main(["--database", url, "--json", "list-users", *args]) == 0
    rows: list[dict[str, Any]] = json.loads(capsys.readouterr().out)
    return [r["username"] for r in rows]


@pytest.mark.parametrize(("args", "expected"), [
    ((), ["anna", "bert", "carl", "jason", "sonja"]),
    (("--search", "son"), ["bert", "jason", "sonja"]),
    (("--group", "Staff"), ["bert", "jason"]),
    (("--type", "internal"), ["carl", "sonja"]),
    (("--type", "external"), ["anna", "bert", "jason"]),
    (("--role", "admin"), ["bert"]),
    (("--role", "user", "--type", "any"), ["anna", "carl", "jason", "sonja"]),
    (("--status", "active"), ["anna", "bert", "jason", "sonja"]),
    (("--status", "disabled"), ["carl"]),
    (("--status", "deleted"), ["gone"]),
    (("--status", "any"), ["anna", "bert", "carl", "gone", "jason", "sonja"]),
    (("--deleted",), ["anna", "bert", "carl", "gone", "jason", "sonja"]),
    (("--desc",), ["sonja", "jason", "carl", "bert", "anna"]),
    (("--sort", "email"), ["carl", "anna", "bert", "jason", "sonja"]),
    (("--sort", "email", "--desc", "--search", "o"), ["sonja", "jason", "bert", "anna"]),
])
def test_selection_and_sort(url: str, capsys: pytest.CaptureFixture[str],
                            args: tuple[str, ...], expected: list[str]) -> None:
    assert names(url, capsys, *args) == expected


def test_columns_and_bad_values(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["--database", url, "--json", "list-users", "--search", "jason"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert (row["email"], row["groups"], row["balance"], row["deleted"]) == (
        "jay@example.org", ["staff"], 100, False)
    assert row["pagometer_since"].endswith("+00:00")
    assert main(["--database", url, "--json", "list-users", "--search", "a\x07b"]) == 1
    assert "--search" in json.loads(capsys.readouterr().out)["error"]
    assert main(["--database", url, "list-users", "--status", "zombie"]) == 2
