"""The user source sync's plan (pure): adds, changes limited to the overwrite fields,
group membership only of the source's groups, deletes only of synced users, duplicates."""

from __future__ import annotations

from ippproxy.accounting.sync_plan import Change, Field, SyncPlan, UserRecord, plan


def rec(name: str, **kw: object) -> UserRecord:
    return UserRecord(name, **kw)  # type: ignore[arg-type]


def test_plan() -> None:
    stored = {"ann": rec("ann", full_name="Ann", email="a@x", groups=frozenset({"local", "g1"})),
              "old": rec("old"), "mine": rec("mine")}
    source = [rec("Ann", full_name="Ann B", email="b@x", groups=frozenset({"g2"})),
              rec("new", card_number="0A", groups=frozenset({"g1"})),
              rec("NEW", full_name="second"),
              rec("dup", card_number="0A", id_number="7"), rec("dup2", id_number="7")]
    p = plan(source, {"g1", "g2"}, stored, frozenset({"old"}), frozenset({"g1", "local"}),
             frozenset({Field.FULL_NAME}))
    assert [a.name for a in p.adds] == ["dup", "dup2", "new"]
    assert {a.name: (a.card_number, a.id_number) for a in p.adds} == \
        {"new": ("0A", None), "dup": (None, "7"), "dup2": (None, None)}
    assert p.changes == (Change("ann", {Field.FULL_NAME: ("Ann", "Ann B")},
                                frozenset({"g2"}), frozenset({"g1"})),)   # "local" untouched
    assert p.deletes == ("old",)                       # "mine" was never synced
    assert p.new_groups == ("g2",)
    assert len(p.warnings) == 3


def test_unchanged_is_empty() -> None:
    same = rec("ann", full_name="Ann", groups=frozenset({"g"}))
    p = plan([same], {"g"}, {"ann": same}, frozenset({"ann"}), frozenset({"g"}))
    assert p == SyncPlan() and p.is_empty(with_deletes=True)
