"""The release station's logins and sessions (services/station.py) on a real database
(SQLite and a throwaway PostgreSQL): a card alone or with the user's PIN (the site's choice),
a name or ID number with the user's PIN, the answers that never tell which part was wrong,
the throttle shared with passwords, the audit; and station sessions in the shared session
table: found by a second node, bound to their printer, never the web app's, ended when idle.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, Engine, update

from ippproxy.accounting import useredit, users
from ippproxy.accounting.txn import in_transaction
from ippproxy.db import make_engine
from ippproxy.services.actor import Actor, Via
from ippproxy.services.admins import Admins, Principal
from ippproxy.services.auditsink import AuditEntry
from ippproxy.services.authmodels import SESSIONS
from ippproxy.services.sessions import Sessions
from ippproxy.services.station import StationLogin, StationSessions
from ippproxy.services.throttle import LoginThrottle, ThrottleSettings

ADDRESS = "10.0.0.7"


class Recorded:
    def __init__(self) -> None:
        self.entries: list[AuditEntry] = []

    def record(self, entry: AuditEntry) -> None:
        self.entries.append(entry)


def _people(engine: Engine) -> None:
    """alice: card, ID number and PIN 2468; bob: a card, no PIN; carol: disabled, PIN."""
    def work(conn: Connection) -> None:
        for name, card in (("alice", "0413-2027"), ("bob", "77-1"), ("carol", "88-2")):
            users.add_user(conn, name, defaults=users.UserDefaults(), internal=True,
                           password=f"{name}-pw-1", card_number=card)
        alice = users.get_user(conn, "alice")._mapping["id"]
        useredit.set_pin(conn, alice, "2468")
        useredit.set_id_number(conn, alice, "S-1001")
        carol = users.get_user(conn, "carol")._mapping["id"]
        useredit.set_pin(conn, carol, "1357")
        useredit.set_user_columns(conn, carol, disabled=True)
    in_transaction(engine, work)


def _login(engine: Engine, *, needs_pin: bool = False,
           free: int = 50) -> tuple[StationLogin, Recorded]:
    audit = Recorded()
    throttle = LoginThrottle(engine, ThrottleSettings(free=free, base=60))
    return StationLogin(Admins(engine, audit), throttle, "desk",
                        card_needs_pin=needs_pin), audit


def _name(result: Actor | float | None) -> str | None:
    return result.name if isinstance(result, Actor) else None


def test_a_card_alone_unless_the_site_asks_for_the_pin(engine: Engine) -> None:
    _people(engine)
    login, audit = _login(engine)
    assert _name(login.card("0413-2027", None, ADDRESS)) == "alice"
    strict, audit = _login(engine, needs_pin=True)
    assert strict.card("0413-2027", None, ADDRESS) is None       # the card alone: no
    assert [(e.action, e.after) for e in audit.entries] == [
        ("station.login-failed", {"address": ADDRESS, "by": "card"})]
    assert _name(strict.card("0413-2027", "2468", ADDRESS)) == "alice"
    assert audit.entries[-1].action == "station.login"
    assert audit.entries[-1].after == {"address": ADDRESS, "by": "card+pin", "printer": "desk"}


def test_the_user_pin_with_a_card_a_name_or_an_id_number(engine: Engine) -> None:
    _people(engine)
    login, audit = _login(engine, needs_pin=True)
    assert _name(login.card("0413-2027", "2468", ADDRESS)) == "alice"
    assert _name(login.user_pin("Alice", "2468", ADDRESS)) == "alice"     # canonicalised
    assert _name(login.user_pin("S-1001", "2468", ADDRESS)) == "alice"    # the ID number
    wrong = [login.card("0413-2027", "2469", ADDRESS),        # a wrong PIN
             login.card("9999", "2468", ADDRESS),              # an unknown card
             login.user_pin("alice", "1357", ADDRESS),          # another user's PIN
             login.user_pin("S-1002", "2468", ADDRESS),
             login.user_pin("bob", "", ADDRESS),                # bob has no PIN
             login.user_pin("bob", "2468", ADDRESS),
             login.card("77-1", "0000", ADDRESS),
             login.user_pin("carol", "1357", ADDRESS),          # disabled
             login.card("88-2", "1357", ADDRESS),
             login.user_pin("", "2468", ADDRESS)]
    assert wrong == [None] * len(wrong)
    failed = [e for e in audit.entries if e.action == "station.login-failed"]
    assert [(e.actor, e.after["by"]) for e in failed] == [  # type: ignore[index]
        ("alice", "card+pin"), ("card", "card+pin"), ("alice", "user-pin"),
        ("s-1002", "user-pin"), ("bob", "user-pin"), ("bob", "user-pin"),
        ("bob", "card+pin"), ("carol", "user-pin"), ("card", "card+pin"), ("", "user-pin")]


def test_a_name_wins_over_an_id_number(engine: Engine) -> None:
    _people(engine)

    def work(conn: Connection) -> None:   # bob's ID number is alice's name
        useredit.set_id_number(conn, users.get_user(conn, "bob")._mapping["id"], "alice")
        useredit.set_pin(conn, users.get_user(conn, "bob")._mapping["id"], "1111")
    in_transaction(engine, work)
    login, _ = _login(engine)
    assert login.user_pin("alice", "1111", ADDRESS) is None
    assert _name(login.user_pin("alice", "2468", ADDRESS)) == "alice"


def test_a_job_pin_is_not_a_user_pin(engine: Engine) -> None:
    """The user PIN boxes check the user's PIN only: the PIN of a job (here 1234, as
    CUPS's print-job-password.test sends) opens nothing there."""
    _people(engine)
    login, _ = _login(engine, needs_pin=True)
    assert login.user_pin("alice", "1234", ADDRESS) is None
    assert login.card("0413-2027", "1234", ADDRESS) is None


def test_wrong_pins_are_throttled_with_the_password_guesses(engine: Engine) -> None:
    _people(engine)
    login, _ = _login(engine, free=3)
    assert login.password("alice", "nope", "10.0.0.1") is None
    assert login.user_pin("alice", "0000", "10.0.0.2") is None
    assert login.card("0413-2027", "0001", "10.0.0.3") is None
    # Three failures of alice's secrets from three addresses: her name waits now, even for
    # her right PIN (not checked, not counted) ...
    for attempt in (lambda: login.user_pin("alice", "2468", "10.0.0.4"),
                    lambda: login.card("0413-2027", "2468", "10.0.0.4"),
                    lambda: login.password("alice", "alice-pw-1", "10.0.0.4")):
        wait = attempt()
        assert isinstance(wait, float) and 0 < wait <= 60
    # ... while bob, from an address with no failures, goes ahead.
    assert login.user_pin("bob", "0000", "10.0.0.4") is None
    # A right PIN clears the name's failures (never the address's).
    login2, _ = _login(engine, free=50)
    assert _name(login2.user_pin("alice", "2468", "10.0.0.5")) == "alice"
    assert _name(login.user_pin("alice", "2468", "10.0.0.5")) == "alice"


def test_station_sessions_are_shared_scoped_and_idle_out(engine: Engine, db_url: str) -> None:
    _people(engine)
    admins = Admins(engine, Recorded())
    web = Sessions(engine)
    desk = StationSessions(admins, web, "desk", 60.0)
    sid, session = desk.open(Actor("alice", Via.SESSION), ADDRESS)
    # Another node: its own engine on the same database.
    other = make_engine(db_url)
    try:
        there = StationSessions(Admins(other, Recorded()), Sessions(other), "desk", 60.0)
        found = there.get(sid)
        assert found is not None and found.actor.name == "alice"
        assert found.csrf == session.csrf
        there.end(sid)                                   # one use, ended on that node ...
        assert desk.get(sid) is None                     # ... is ended on this one
    finally:
        other.dispose()
    sid, _ = desk.open(Actor("alice", Via.SESSION), ADDRESS)
    assert StationSessions(admins, web, "lobby", 60.0).get(sid) is None   # another printer
    assert web.lookup(sid) is None                       # never an admin or user app login
    app_sid, _ = web.create(Principal("alice", False), ADDRESS)
    assert desk.get(app_sid) is None
    # Both idle two minutes: the station's session (60 s) ends, the web app's (30 min)
    # lives, and the station's sweep at its next login leaves the web app's alone.
    old = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=120)
    in_transaction(engine, lambda c: c.execute(update(SESSIONS).values(seen_at=old)))
    assert desk.get(sid) is None
    desk.open(Actor("alice", Via.SESSION), ADDRESS)
    assert web.lookup(app_sid) is not None


def test_a_station_session_ends_when_its_user_is_disabled(engine: Engine) -> None:
    _people(engine)
    desk = StationSessions(Admins(engine, Recorded()), Sessions(engine), "desk", 60.0)
    sid, _ = desk.open(Actor("alice", Via.SESSION), ADDRESS)
    assert desk.get(sid) is not None

    def disable(conn: Connection) -> None:
        useredit.set_user_columns(conn, users.get_user(conn, "alice")._mapping["id"],
                                  disabled=True)
    in_transaction(engine, disable)
    assert desk.get(sid) is None
