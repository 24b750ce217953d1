"""``services.user_list`` on a real database (SQLite and PostgreSQL) with the real job
store: every selection of the user list (fragment of id or email, group, type, role,
status, each with its either choice), the sorts, a download of every selected user in
batches, and each user's pagometer against jobs of known pages that printed, were
canceled, aborted or are held; the reset of every pagometer (audited, write access)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import Connection, Engine

from ippproxy.accounting import users
from ippproxy.accounting.directory import Page
from ippproxy.accounting.txn import in_transaction
from ippproxy.jobs.records import NewDocument
from ippproxy.jobs.spool import Spool
from ippproxy.jobs.state import JobEvent
from ippproxy.jobs.store import JobStore
from ippproxy.services import user_list
from ippproxy.services.actor import Access, Actor, Section, Via
from ippproxy.services.auditsink import AuditEntry
from ippproxy.services.errors import Forbidden, Invalid
from ippproxy.services.user_list import UserList, make_filter

ADMIN = Actor("admin", Via.TOKEN, superuser=True)
READER = Actor("reader", Via.TOKEN, rights=((Section.USERS, Access.READ),))
NOBODY = Actor("mallory", Via.SESSION)


class Recorded:
    def __init__(self) -> None:
        self.entries: list[AuditEntry] = []

    def record(self, entry: AuditEntry) -> None:
        self.entries.append(entry)


# name, email, internal, admin, disabled, deleted, groups
PEOPLE = [("jason", "jay@example.org", False, False, False, False, ("staff",)),
          ("sonja", "sonja@example.org", True, False, False, False, ()),
          ("bert", "b.JOHNSON@example.org", False, True, False, False, ("staff",)),
          ("carl", None, True, False, True, False, ()),
          ("anna", "anna@example.org", False, False, False, False, ()),
          ("gone", "gone-son@example.org", False, False, False, True, ())]


@pytest.fixture
def listing(engine: Engine, store: JobStore) -> tuple[UserList, Recorded]:
    def work(conn: Connection) -> None:
        users.add_group(conn, "staff")
        for name, email, internal, admin, disabled, deleted, groups in PEOPLE:
            users.add_user(conn, name, defaults=users.UserDefaults(balance=250),
                           internal=internal, email=email, groups=groups,
                           full_name=name.title())
            if admin:
                users.set_user_property(conn, name, "admin", "true")
            if disabled:
                users.set_user_property(conn, name, "disabled", "true")
            if deleted:
                users.delete_user(conn, name)
    in_transaction(engine, work)
    audit = Recorded()
    return UserList(engine, audit, store.reports), audit


async def names(svc: UserList, *, sort: str = "", desc: bool = False, **flt: Any) -> list[str]:
    items, total = await svc.page(ADMIN, Page(0, 100, sort, desc), make_filter(**flt))
    assert total == len(items)
    return [i["username"] for i in items]


async def test_default_lists_the_non_deleted_alphabetically(listing: Any) -> None:
    assert await names(listing[0]) == ["anna", "bert", "carl", "jason", "sonja"]


@pytest.mark.parametrize(("flt", "expected"), [
    ({"search": "son"}, ["bert", "jason", "sonja"]),     # id or email (bert: b.JOHNSON@)
    ({"search": "SON"}, ["bert", "jason", "sonja"]),     # case does not matter
    ({"search": "son", "status": "any"}, ["bert", "gone", "jason", "sonja"]),
    ({"search": "%"}, []),                               # a wildcard is a plain character
    ({"group": "staff"}, ["bert", "jason"]),
    ({"group": "STAFF"}, ["bert", "jason"]),
    ({"group": "nobody-here"}, []),
    ({"type": "internal"}, ["carl", "sonja"]),
    ({"type": "external"}, ["anna", "bert", "jason"]),
    ({"type": "any"}, ["anna", "bert", "carl", "jason", "sonja"]),
    ({"role": "admin"}, ["bert"]),
    ({"role": "user"}, ["anna", "carl", "jason", "sonja"]),
    ({"status": "active"}, ["anna", "bert", "jason", "sonja"]),
    ({"status": "disabled"}, ["carl"]),
    ({"status": "deleted"}, ["gone"]),
    ({"status": "any"}, ["anna", "bert", "carl", "gone", "jason", "sonja"]),
    ({"status": "any", "type": "external", "role": "user", "search": "o"},
     ["anna", "gone", "jason"]),
])
async def test_each_selection(listing: Any, flt: dict[str, str], expected: list[str]) -> None:
    assert await names(listing[0], **flt) == expected


async def test_sorts(listing: Any) -> None:
    svc = listing[0]
    assert await names(svc, desc=True) == ["sonja", "jason", "carl", "bert", "anna"]
    # By email: carl has none (sorted as empty), b.johnson before jay before sonja.
    assert await names(svc, sort="email") == ["carl", "anna", "bert", "jason", "sonja"]
    assert await names(svc, sort="email", desc=True) == ["sonja", "jason", "bert", "anna",
                                                         "carl"]
    # A narrower selection takes the other path (one scan, the total beside each row).
    assert await names(svc, sort="email", search="a") == ["carl", "anna", "bert", "jason",
                                                           "sonja"]
    assert await names(svc, sort="created_at", search="a") == ["jason", "sonja", "bert",
                                                               "carl", "anna"]
    assert await names(svc, sort="created_at", desc=True, search="a", type="internal") == [
        "carl", "sonja"]


async def test_pages_and_total(listing: Any) -> None:
    svc = listing[0]
    items, total = await svc.page(ADMIN, Page(2, 2), make_filter())
    assert total == 5 and [i["username"] for i in items] == ["carl", "jason"]
    item = items[1]
    assert item["groups"] == ["staff"] and item["balance"] == 250
    assert item["email"] == "jay@example.org" and not item["internal"]
    # Past the end: no users, and still the total (of a narrower selection too).
    assert await svc.page(ADMIN, Page(10, 2), make_filter()) == ([], 5)
    assert await svc.page(ADMIN, Page(10, 2), make_filter(search="son")) == ([], 3)
    items, total = await svc.page(ADMIN, Page(1, 1), make_filter(search="son"))
    assert total == 3 and [i["username"] for i in items] == ["jason"]


@pytest.mark.parametrize(("flt", "field"), [({"type": "robot"}, "type"),
                                            ({"role": "root"}, "role"),
                                            ({"status": "zombie"}, "status"),
                                            ({"search": "a\x00b"}, "search"),
                                            ({"search": "x" * 300}, "search"),
                                            ({"group": "a\u200bb"}, "group"),
                                            ({"group": "g" * 300}, "group")])
def test_bad_selection_names_its_field(flt: dict[str, str], field: str) -> None:
    with pytest.raises(Invalid) as e:
        make_filter(**flt)
    assert e.value.field == field


async def test_bad_page_and_sort(listing: Any) -> None:
    svc = listing[0]
    for page, field in ((Page(0, 0), "limit"), (Page(-1, 5), "offset"),
                        (Page(0, 5, "password_hash"), "sort")):
        with pytest.raises(Invalid) as e:
            await svc.page(ADMIN, page, make_filter())
        assert e.value.field == field


async def test_rights(listing: Any) -> None:
    svc = listing[0]
    with pytest.raises(Forbidden):
        await svc.page(NOBODY, Page(), make_filter())
    with pytest.raises(Forbidden):
        await svc.reset_pagometers(READER)
    assert (await svc.page(READER, Page(), make_filter()))[1] == 5


async def test_every_selected_user_in_batches(listing: Any,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    svc = listing[0]
    monkeypatch.setattr(user_list, "BATCH", 2)  # three batches for five users
    got = [i["username"] async for i in svc.every(ADMIN, make_filter())]
    assert got == ["anna", "bert", "carl", "jason", "sonja"]
    got = [i["username"] async for i in svc.every(ADMIN, make_filter(status="any"),
                                                   "email", True)]
    assert got == ["sonja", "jason", "gone", "bert", "anna", "carl"]
    every = [i async for i in svc.every(ADMIN, make_filter(search="son"))]
    assert all("pagometer" in i and "_key" not in i for i in every)


async def _job(store: JobStore, spool: Spool, owner: str, pages: int, colour: int,
               size: int, end: JobEvent | None, hold: bool = False) -> str:
    async with spool.writer() as w:
        await w.write(b"%" * size)
    doc = NewDocument(spool_name=w.name, size=w.size, sha256=w.sha256,
                      format="application/pdf")
    job = await store.create_job(
        "office", owner=owner, documents=(doc,), hold_until="indefinite" if hold else None,
        analysis={"attributes": {"job-impressions": pages, "job-impressions-col": colour}})
    if end is JobEvent.COMPLETE:
        await store.transition(job.uuid, JobEvent.START)
    if end is not None:
        await store.transition(job.uuid, end)
    return job.uuid


async def test_pagometer_against_known_jobs(listing: Any, store: JobStore,
                                            spool: Spool) -> None:
    svc, audit = listing
    await _job(store, spool, "jason", 5, 2, 1000, JobEvent.COMPLETE)
    await _job(store, spool, "jason", 3, 0, 500, JobEvent.COMPLETE)
    await _job(store, spool, "jason", 4, 4, 300, JobEvent.CANCEL)     # never printed
    await _job(store, spool, "jason", 2, 0, 200, JobEvent.ABORT)      # never printed
    await _job(store, spool, "jason", 7, 1, 4096, None, hold=True)   # held now
    await _job(store, spool, "sonja", 1, 1, 100, JobEvent.COMPLETE)
    printed = await _job(store, spool, "sonja", 6, 0, 100, JobEvent.COMPLETE)
    await store.set_counts(printed, impressions=2)   # the printer's count wins
    items, _ = await svc.page(ADMIN, Page(), make_filter())
    meters = {i["username"]: i["pagometer"] for i in items}
    assert meters["jason"] == {"mono": 6, "colour": 2, "pages": 8, "unprinted": 6,
                               "jobs": 2, "bytes": 1500, "held_bytes": 4096}
    # Colour pages never exceed the pages printed: 1 of 1, then 0 of the printer's 2.
    assert meters["sonja"] == {"mono": 2, "colour": 1, "pages": 3, "unprinted": 0,
                               "jobs": 2, "bytes": 200, "held_bytes": 0}
    assert meters["anna"]["pages"] == 0
    since = {i["username"]: i["pagometer_since"] for i in items}
    assert since["jason"] <= dt.datetime.now(dt.UTC)

    when = await svc.reset_pagometers(ADMIN)
    assert await svc.last_reset(ADMIN) == when
    items, _ = await svc.page(ADMIN, Page(), make_filter())
    meters = {i["username"]: i["pagometer"] for i in items}
    assert all(i["pagometer_since"] == when for i in items)
    # The period starts at the reset: nothing ended since; held documents are held still.
    assert meters["jason"] == {"mono": 0, "colour": 0, "pages": 0, "unprinted": 0,
                               "jobs": 0, "bytes": 0, "held_bytes": 4096}
    await _job(store, spool, "jason", 2, 1, 10, JobEvent.COMPLETE)
    items, _ = await svc.page(ADMIN, Page(), make_filter(search="jason"))
    assert items[0]["pagometer"]["pages"] == 2 and items[0]["pagometer"]["colour"] == 1
    [e] = audit.entries
    assert e.action == "user.reset-pagometers" and e.actor == "admin"
    assert e.after == {"since": when.isoformat()}


async def test_deleted_users_name_taken_again_keeps_no_figures(
        listing: Any, engine: Engine, store: JobStore, spool: Spool) -> None:
    svc = listing[0]
    await _job(store, spool, "gone", 3, 0, 10, JobEvent.COMPLETE)
    in_transaction(engine, lambda c: users.add_user(c, "gone", defaults=users.UserDefaults()))
    items, _ = await svc.page(ADMIN, Page(), make_filter(search="gone", status="any"))
    by_deleted = {i["deleted"]: i["pagometer"]["pages"] for i in items}
    # The new "gone" counts from its creation, after that job; the deleted one shows none.
    assert by_deleted == {True: 0, False: 0}
