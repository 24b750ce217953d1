"""``services.user_edit`` and ``services.user_life`` on a real database (SQLite and
PostgreSQL): every edit-page field, its checks and uniqueness, the audit's before and
after, the balance as a correction row, create, delete (logical and physical), erase and
the personal data download (issue 18)."""

from __future__ import annotations

import datetime as dt
import io
import json
import uuid
import zipfile

import pytest
from sqlalchemy import Connection, Engine, func, select

from ippproxy.accounting import useredit, users
from ippproxy.accounting.models import ACCOUNTS, LEDGER
from ippproxy.accounting.txn import in_transaction
from ippproxy.catalog import Catalog
from ippproxy.config import UsersConfig
from ippproxy.jobs.spool import Spool
from ippproxy.jobs.state import JobEvent
from ippproxy.jobs.store import JobStore
from ippproxy.services.actor import Actor, Via
from ippproxy.services.auditsink import AuditEntry
from ippproxy.services.errors import Conflict, Invalid, NotFound
from ippproxy.services.user_edit import UserChanges, UserEdit
from ippproxy.services.user_life import NewUser, UserLife

from .conftest import add_job

ADMIN = Actor("admin", Via.TOKEN, superuser=True)


class Recorded:
    def __init__(self) -> None:
        self.entries: list[AuditEntry] = []

    def record(self, entry: AuditEntry) -> None:
        self.entries.append(entry)


CONFIG = UsersConfig(pin_length_min=4, pin_length_max=6, id_number_length_min=5,
                     username_prefix="int-", password_length_min=10)


@pytest.fixture
def two(engine: Engine) -> Engine:
    def work(conn: Connection) -> None:
        users.add_group(conn, "staff", initial_restricted=True, initial_credit_limit=700)
        users.add_user(conn, "jane", defaults=users.UserDefaults(balance=500), internal=True,
                       groups=("staff",))
        users.add_user(conn, "bob", defaults=users.UserDefaults())
    in_transaction(engine, work)
    return engine


def edit(engine: Engine, audit: Recorded | None = None) -> UserEdit:
    return UserEdit(engine, audit or Recorded(), lambda: CONFIG)


def invariant(engine: Engine) -> None:
    """Every account's balance is its opening balance plus its ledger."""
    with engine.connect() as conn:
        for aid, opening, balance in conn.execute(select(
                ACCOUNTS.c.id, ACCOUNTS.c.opening_balance, ACCOUNTS.c.balance)):
            total = conn.execute(select(func.coalesce(func.sum(LEDGER.c.amount), 0))
                                 .where(LEDGER.c.account_id == aid)).scalar()
            assert balance == opening + total


def test_each_section_is_saved_and_audited(two: Engine) -> None:
    audit = Recorded()
    svc = edit(two, audit)
    after = svc.update(ADMIN, " JANE", UserChanges(
        full_name="Jane Doe", admin=True, person=False, emails="J@Example.org, j2@example.org;"
        "j3@example.org\r\nj4@example.org  j5@example.org", card_number="305419896",
        card_format="dec", card_order="msb", id_number="ID-12345", pin="0042",
        credit_source="individual", credit_limit=250))
    assert after["full_name"] == "Jane Doe" and after["admin"] and not after["person"]
    assert after["emails"] == ["j@example.org", "j2@example.org", "j3@example.org",
                               "j4@example.org", "j5@example.org"]
    # 305419896 = 0x12345678: MSB first as read, stored LSB first.
    assert after["card_number"] == "78563412"
    assert after["id_number"] == "ID-12345" and after["pin_set"]
    assert (after["restricted"], after["credit_limit"]) == (True, 250)
    [e] = audit.entries
    assert e.action == "user.edit" and e.target == "user:jane"
    assert e.before is not None and e.after is not None
    assert e.before["full_name"] == "" and e.after["full_name"] == "Jane Doe"
    assert e.before["pin_set"] is False and e.after["pin_set"] is True
    assert "0042" not in json.dumps([e.before, e.after])
    # group default: the staff group's limit; none: unrestricted.
    assert svc.update(ADMIN, "jane", UserChanges(credit_source="group"))["credit_limit"] == 700
    after = svc.update(ADMIN, "jane", UserChanges(credit_source="none"))
    assert after["credit_source"] == "none" and not after["restricted"]
    # the password: reset, then erased; only internal users have one here.
    assert svc.update(ADMIN, "jane", UserChanges(password="a long secret"))["password_set"]
    assert not svc.update(ADMIN, "jane", UserChanges(password=""))["password_set"]
    with pytest.raises(Invalid) as bad:
        svc.update(ADMIN, "bob", UserChanges(password="a long secret"))
    assert bad.value.field == "password"


def test_values_of_another_user_are_refused_naming_the_field(two: Engine) -> None:
    svc = edit(two)
    svc.update(ADMIN, "jane", UserChanges(emails="jane@example.org", card_number="0A0B",
                                          id_number="77777"))
    cases = [(UserChanges(emails="x@example.org JANE@example.org"), "email"),
             # the same card entered as decimal, MSB first (0x0B0A = 2826)
             (UserChanges(card_number="2826", card_format="dec", card_order="msb"),
              "card-number"),
             (UserChanges(id_number=" 77777 "), "id-number")]
    for change, field in cases:
        with pytest.raises(Invalid) as e:
            svc.update(ADMIN, "bob", change)
        assert e.value.field == field and "jane" in e.value.reason
    assert svc.details(ADMIN, "bob")["emails"] == []
    # a deleted user's values are free again
    UserLife(two, Recorded(), lambda: CONFIG, lambda: "EUR").delete(ADMIN, "jane")
    assert svc.update(ADMIN, "bob", cases[0][0])["emails"] == ["x@example.org",
                                                                "jane@example.org"]


@pytest.mark.parametrize(("change", "field"), [
    (UserChanges(card_number="12G4"), "card-number"),
    (UserChanges(card_number="12.5", card_format="dec"), "card-number"),
    (UserChanges(card_number="00" * 33), "card-number"),
    (UserChanges(pin="12ab"), "pin"),
    (UserChanges(pin="１２３４"), "pin"),  # full-width digits are not ASCII digits
    (UserChanges(pin="123"), "pin"),
    (UserChanges(pin="1234567"), "pin"),
    (UserChanges(password="short"), "password"),
    (UserChanges(id_number="1234"), "id-number"),
    (UserChanges(emails="jane at example.org"), "email"),
    (UserChanges(credit_limit=-1), "credit-limit"),
    (UserChanges(credit_source="unlimited"), "credit-limit-source"),
    (UserChanges(full_name="x" * 256), "full-name"),
])
def test_bad_input_is_refused_and_changes_nothing(two: Engine, change: UserChanges,
                                                  field: str) -> None:
    audit = Recorded()
    svc = edit(two, audit)
    before = svc.details(ADMIN, "jane")
    with pytest.raises(Invalid) as e:
        svc.update(ADMIN, "jane", change)
    assert e.value.field == field
    assert svc.details(ADMIN, "jane") == before and audit.entries == []


def test_pin_token_and_balance(two: Engine) -> None:
    audit = Recorded()
    svc = edit(two, audit)
    svc.update(ADMIN, "jane", UserChanges(pin="4711"))
    with two.connect() as conn:
        assert useredit.verify_user_pin(conn, "Jane", "4711")
        assert not useredit.verify_user_pin(conn, "jane", "4712")
        assert not useredit.verify_user_pin(conn, "bob", "4711")
        assert not useredit.verify_user_pin(conn, "nobody", "4711")
    first = svc.new_token(ADMIN, "jane")["uuid_token"]
    second = svc.new_token(ADMIN, "jane")["uuid_token"]
    assert first and second and first != second
    with two.connect() as conn:
        assert useredit.user_by_token(conn, second) == "jane"
        assert useredit.user_by_token(conn, first) is None
    assert all(first not in json.dumps([e.before, e.after]) for e in audit.entries)
    after, posting = svc.set_balance(ADMIN, "jane", 1234, "cash counted", key="k1")
    assert after["balance"] == 1234 and posting is not None
    assert posting.amount == 734 and posting.actor == "admin"
    assert "cash counted" in posting.reason
    again, replay = svc.set_balance(ADMIN, "jane", 1234, "cash counted", key="k1")
    assert again["balance"] == 1234 and replay is None
    assert svc.set_balance(ADMIN, "jane", -50, "debt", key="k2")[0]["balance"] == -50
    invariant(two)


def test_deleted_users_cannot_be_edited(two: Engine) -> None:
    with two.begin() as conn:
        users.delete_user(conn, "bob")
    svc = edit(two)
    for call in (lambda: svc.details(ADMIN, "BOB"),
                 lambda: svc.update(ADMIN, "bob", UserChanges(full_name="B")),
                 lambda: svc.set_balance(ADMIN, "bob", 5, "x")):
        with pytest.raises(Conflict, match="deleted"):
            call()
    with pytest.raises(NotFound):
        svc.details(ADMIN, "nobody")


def test_create_internal_user(two: Engine) -> None:
    audit = Recorded()
    life = UserLife(two, audit, lambda: CONFIG, lambda: "EUR")
    with pytest.raises(Invalid) as e:
        life.create_internal(ADMIN, NewUser("kim", "too short"))
    assert e.value.field == "password"
    name = life.create_internal(ADMIN, NewUser("Kim", "long enough!", "Kim K",
                                               "kim@example.org"))
    assert name == "int-kim"
    got = edit(two).details(ADMIN, "int-kim")
    assert got["internal"] and got["password_set"] and got["emails"] == ["kim@example.org"]
    assert (got["balance"], got["restricted"], got["credit_limit"]) == (0, True, 0)
    with pytest.raises(Conflict):
        life.create_internal(ADMIN, NewUser("KIM", "long enough!"))
    with two.begin() as conn:  # the Internal Users group's new-user settings
        users.add_group(conn, "internal-users", initial_balance=300,
                        initial_restricted=False)
    got = edit(two).details(ADMIN, life.create_internal(ADMIN, NewUser("lu", "long enough!")))
    assert (got["balance"], got["restricted"]) == (300, False)
    assert [x.action for x in audit.entries] == ["user.create", "user.create"]
    invariant(two)


def test_delete_is_logical_with_history_and_physical_without(two: Engine) -> None:
    life = UserLife(two, Recorded(), lambda: CONFIG, lambda: "EUR")
    assert life.delete(ADMIN, "jane")["deleted"] == "logical"  # has its initial credit
    assert life.delete(ADMIN, "bob")["deleted"] == "physical"
    with two.connect() as conn:
        assert useredit.is_deleted(conn, "jane") and not useredit.is_deleted(conn, "bob")
    with pytest.raises(Conflict):
        life.delete(ADMIN, "jane")
    assert life.sweep() == []  # jane's ledger is still there
    invariant(two)


def test_erase_and_download(two: Engine, catalog: Catalog) -> None:
    from ippproxy.services.auditsink import CatalogAudit
    audit = CatalogAudit(catalog)
    svc = UserEdit(two, audit, lambda: CONFIG)
    svc.update(ADMIN, "jane", UserChanges(full_name="Jane Doe", emails="jane@example.org",
                                          card_number="0A0B", id_number="77777",
                                          pin="4711"))
    svc.set_balance(ADMIN, "jane", 900, "correction")
    life = UserLife(two, audit, lambda: CONFIG, lambda: "EUR", catalog)
    z = zipfile.ZipFile(io.BytesIO(life.export_zip(ADMIN, "jane")))
    assert set(z.namelist()) == {"personal-data.json", "profile.csv", "groups.csv",
                                 "accounts.csv", "transactions.csv", "jobs.csv",
                                 "audit.csv"}
    data = json.loads(z.read("personal-data.json"))
    assert data["profile"]["full_name"] == "Jane Doe"
    assert data["profile"]["emails"] == ["jane@example.org"]
    assert data["groups"] == ["staff"]
    assert [t["amount"] for t in data["transactions"]] == [500, 400]
    assert {a["action"] for a in data["audit"]} >= {"user.edit", "user.balance"}
    assert "Jane Doe" in z.read("profile.csv").decode()
    assert "pin_hash" not in z.read("personal-data.json").decode()
    erased = life.erase(ADMIN, "jane")
    placeholder = erased["username"]
    assert placeholder.startswith("erased-") and erased["erased_at"]
    got = svc.details(ADMIN, placeholder)
    assert (got["full_name"], got["emails"], got["card_number"], got["id_number"],
            got["pin_set"], got["uuid_token"]) == ("", [], None, None, False, None)
    assert got["erased_at"] and got["balance"] == 900 and got["disabled"]
    with pytest.raises(NotFound):
        svc.details(ADMIN, "jane")
    invariant(two)


def test_the_uuid_token_is_made_at_the_first_login_and_may_be_a_printer_url(
        two: Engine) -> None:
    from ippproxy.services.admins import Principal
    from ippproxy.services.printer_urls import PrinterUrls
    from ippproxy.services.sessions import Sessions
    svc = edit(two)
    assert svc.details(ADMIN, "jane")["uuid_token"] is None
    Sessions(two).create(Principal("jane", False), "192.0.2.1")
    token = svc.details(ADMIN, "jane")["uuid_token"]
    assert token is not None and len(token) == 36
    Sessions(two).create(Principal("jane", False), "192.0.2.1")  # kept at the next login
    assert svc.details(ADMIN, "jane")["uuid_token"] == token
    Sessions(two).create(Principal("admin", True), "192.0.2.1")  # the master: no user row
    allowed = PrinterUrls(two, Recorded(), uuid_tokens=lambda: True)
    assert allowed.authenticate(token) == "jane"
    assert allowed.authenticate(token.upper()) == "jane"
    assert allowed.authenticate(str(uuid.uuid4())) is None
    assert PrinterUrls(two, Recorded()).authenticate(token) is None  # not allowed
    svc.update(ADMIN, "jane", UserChanges(disabled=True))
    assert allowed.authenticate(token) is None  # a disabled user proves nothing


async def test_the_sweep_deletes_a_user_once_its_history_aged_out(
        engine: Engine, store: JobStore, spool: Spool) -> None:
    with engine.begin() as conn:
        users.add_user(conn, "Student", defaults=users.UserDefaults())
    job = await add_job(store, spool, "office")  # owner "student"
    await store.transition(job, JobEvent.CANCEL)
    life = UserLife(engine, Recorded(), lambda: CONFIG, lambda: "EUR")
    assert life.delete(ADMIN, "student")["deleted"] == "logical"
    assert life.sweep() == []  # its job is still in the history
    await store.purge_history(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1))
    [gone] = life.sweep()
    with engine.connect() as conn:
        assert not useredit.is_deleted(conn, "student")
        assert conn.execute(select(ACCOUNTS).where(ACCOUNTS.c.owner_id == uuid.UUID(gone))
                            ).first() is None


def test_fields_the_next_sync_overwrites_are_marked(two: Engine) -> None:
    svc = UserEdit(two, Recorded(), lambda: CONFIG,
                   lambda: ("full-name", "card-number"))
    assert svc.details(ADMIN, "jane")["sync_overwrites"] == []  # not from the directory
    with two.begin() as conn:
        uid = users.get_user(conn, "jane")._mapping["id"]
        useredit.set_profile(conn, uid, source="ldap")
    assert svc.details(ADMIN, "jane")["sync_overwrites"] == ["full-name", "card-number"]


async def test_erasure_clears_job_names_and_keeps_page_counts(
        engine: Engine, store: JobStore, spool: Spool) -> None:
    from ippproxy.jobs import personal
    with engine.begin() as conn:
        users.add_user(conn, "student", defaults=users.UserDefaults(balance=100))
    job = await add_job(store, spool, "office", name="salary review.pdf")
    life = UserLife(engine, Recorded(), lambda: CONFIG, lambda: "EUR")
    with engine.connect() as conn:
        [before] = personal.job_metadata(conn, "student")
    assert before["name"] == "salary review.pdf"
    placeholder = life.erase(ADMIN, "Student")["username"]
    with engine.connect() as conn:
        assert personal.job_metadata(conn, "student") == []
        [after] = personal.job_metadata(conn, placeholder)
    assert after["uuid"] == job and after["name"] is None
    assert after["impressions"] == before["impressions"]
    invariant(engine)


def test_two_users_racing_for_one_address_one_card_one_id_one_wins(two: Engine) -> None:
    """Each value is checked and written under a lock on the value (PostgreSQL: an advisory
    transaction lock), so concurrent edits never give it to both."""
    import threading
    svc = edit(two)
    for change, field in ((UserChanges(emails="race@example.org"), "email"),
                          (UserChanges(card_number="AB12"), "card-number"),
                          (UserChanges(id_number="RACE-1"), "id-number")):
        start = threading.Barrier(2)
        results: dict[str, str] = {}

        def attempt(name: str, change: UserChanges = change,
                    start: threading.Barrier = start,
                    results: dict[str, str] = results) -> None:
            start.wait(timeout=60)
            try:
                svc.update(ADMIN, name, change)
                results[name] = "ok"
            except Invalid as e:
                results[name] = e.field
        threads = [threading.Thread(target=attempt, args=(n,)) for n in ("jane", "bob")]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert sorted(results.values()) == sorted(["ok", field]), results


@pytest.mark.parametrize("how", ["erase", "delete"])
def test_a_freed_name_proves_nobody_through_old_sessions_or_printer_urls(
        two: Engine, how: str) -> None:
    """After an erasure or a delete the name is free: a new user who takes it must not
    inherit the old one's web sessions or personal printer URLs."""
    from ippproxy.services.admins import Principal
    from ippproxy.services.printer_urls import PrinterUrls
    from ippproxy.services.sessions import Sessions
    sessions, urls = Sessions(two), PrinterUrls(two, Recorded())
    sid, _ = sessions.create(Principal("jane", False), "192.0.2.1")
    _, secret = urls.create(ADMIN, "jane", "phone")
    assert sessions.lookup(sid) is not None and urls.authenticate(secret) == "jane"
    life = UserLife(two, Recorded(), lambda: CONFIG, lambda: "EUR")
    getattr(life, how)(ADMIN, "jane")
    with two.begin() as conn:
        users.add_user(conn, "jane", defaults=users.UserDefaults())  # a new jane
    assert sessions.lookup(sid) is None
    assert urls.authenticate(secret) is None
