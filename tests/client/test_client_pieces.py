"""The client's pieces without a server: the event-stream parser (HTML Living Standard
§9.2.6), the saved login's file mode, the answer matching, the cleaning of untrusted text,
the countdown and the reconnect delays."""

from __future__ import annotations

import datetime as dt
import os
import stat
import sys
from pathlib import Path

import pytest

from ippproxy.client.answers import pick
from ippproxy.client.cli import main
from ippproxy.client.errors import ClientFailure
from ippproxy.client.popups import clean, countdown, money, render, seconds_left
from ippproxy.client.sse import Event, EventParser
from ippproxy.client.store import Saved, TokenStore
from ippproxy.client.stream import MAX_DELAY, next_delay


def feed(parser: EventParser, text: str) -> list[Event]:
    out = []
    for line in text.split("\n"):
        ev = parser.feed_line(line)
        if ev is not None:
            out.append(ev)
    return out


def test_sse_records_comments_ids_and_retry() -> None:
    p = EventParser()
    events = feed(p, "retry: 3000\n\n: keep-alive\n\nevent: balance\ndata: {\"a\": 1}\n\n"
                     "id: 7\ndata: one\ndata:two\n\nevent: x\n\n")
    assert events == [Event("balance", '{"a": 1}', None), Event("message", "one\ntwo", "7")]
    assert p.retry_ms == 3000 and p.last_id == "7"
    assert feed(p, "retry: soon\nid: a\x00b\n\n") == [] and p.retry_ms == 3000
    assert p.last_id == "7"


def test_saved_login_is_private_and_per_server(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "cfg")
    path = store.save(Saved("https://a:631", "alice", "sid", "csrf"))
    if sys.platform != "win32":
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert store.load("https://a:631") == Saved("https://a:631", "alice", "sid", "csrf")
    assert store.load("https://b:631") is None
    path.write_text("{not json")
    assert store.load("https://a:631") is None
    store.forget("https://a:631")
    store.forget("https://a:631")
    assert not path.exists()


def test_pick_by_number_code_name_or_personal() -> None:
    choices = [{"code": None, "name": "alice"}, {"code": "physics", "name": "Physics"}]
    assert pick(choices, "2")["code"] == "physics"
    assert pick(choices, "PHYSICS")["code"] == "physics"
    assert pick(choices, "personal")["code"] is None
    with pytest.raises(ClientFailure, match="no account 'chemistry'"):
        pick(choices, "chemistry")
    with pytest.raises(ClientFailure):
        pick(choices, "3")


def test_untrusted_text_cannot_drive_the_terminal() -> None:
    name = "report\x1b[2J\x1b]0;pwned\x07\u202eexe.pdf"
    shown = render("account-needed", {"job_id": 1, "name": name, "printer": "p",
                                      "choices": [{"code": None, "name": "a\rb",
                                                   "balance": -105, "currency": "EUR"}]})
    assert "\x1b" not in shown and "\x07" not in shown and "\u202e" not in shown
    assert "a?b" in shown and "-1.05 EUR" in shown
    assert len(clean("x" * 1000)) == 200
    assert money(None, "EUR") == "?"


def test_countdown_and_backoff() -> None:
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    left = seconds_left((now + dt.timedelta(seconds=125)).isoformat(), now)
    assert left == 125 and countdown(left) == "2:05 left to answer"
    assert countdown(-1).startswith("time is up")
    assert seconds_left(None) is None and seconds_left("soon") is None
    delays = [1.0]
    for _ in range(10):
        delays.append(next_delay(delays[-1], 1.0))
    assert delays[:4] == [1, 2, 4, 8] and delays[-1] == MAX_DELAY


def test_the_identity_popup_names_the_job_and_asks_for_a_password() -> None:
    shown = render("identity-needed", {"job_id": 7, "name": "scan\x1b[31m", "printer": "walkup",
                                       "pages": 2, "deadline": None})
    assert shown.startswith('Did you print job 7 "scan?[31m" on walkup, 2 page(s)?')
    assert "user name and password" in shown and "\x1b" not in shown


@pytest.mark.parametrize(("argv", "says"), [
    (["--desktop-login"], "--desktop-login needs --socket"),
    (["https://print.example:631", "--desktop-login"], "--desktop-login needs --socket"),
    (["--socket", "/run/x.sock", "--desktop-login", "--user", "bob"], "and no --user"),
    (["https://print.example:631", "--socket", "/run/x.sock"], "not both"),
    (["--socket", "/run/x.sock", "--cafile", "/etc/ca.pem"], "no certificate"),
    ([], "give the server's URL (https://...) or --socket PATH"),
    (["http://print.example:631"], "must start with https://"),
])
def test_where_the_client_goes_is_checked_before_anything_is_sent(
        argv: list[str], says: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*argv, "--config-dir", str(tmp_path)]) == 2
    assert says in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
