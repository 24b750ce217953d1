"""The typed config: defaults, TOML loading, and errors that name the bad key."""

import subprocess
import sys
from pathlib import Path

import pytest

from ippproxy.cli import main
from ippproxy.config import (
    BUILTIN_DESTINATION,
    Config,
    ConfigError,
    embedded_default,
    from_dict,
    load,
)


def test_embedded_default_has_builtin_default_queue() -> None:
    cfg = Config()
    assert [q.name for q in cfg.queues] == ["default"]
    assert cfg.queues[0].destination == BUILTIN_DESTINATION
    assert cfg.storage.database.startswith("sqlite:///")
    assert cfg.server.port == 8631


def test_the_embedded_default_counts_and_prices() -> None:
    """``make run`` (serve without --config): accounting on, unrestricted users; the same
    queue, port and database as the dataclass defaults a file starts from."""
    cfg = embedded_default()
    assert cfg.accounting.enabled and not cfg.accounting.restricted
    assert cfg.accounting.unknown_users == "create"
    assert (cfg.queues, cfg.server, cfg.storage) == (Config().queues, Config().server,
                                                     Config().storage)
    assert not Config().accounting.enabled


def test_full_example(tmp_path: Path) -> None:
    f = tmp_path / "c.toml"
    f.write_text(
        """
[server]
listen = "0.0.0.0"
port = 9631
unix_socket = "/run/ippproxy/ippproxy.sock"
[storage]
database = "postgresql+psycopg://u@localhost/ipp"
spool = "/srv/spool"
[[queue]]
name = "office"
destination = "ipp://printer.example/ipp/print"
location = "2nd floor"
[[queue]]
name = "demo"
"""
    )
    cfg = load(f)
    assert cfg.server.port == 9631 and cfg.server.unix_socket == "/run/ippproxy/ippproxy.sock"
    assert cfg.queue("office") is not None
    assert cfg.queue("office").destination == "ipp://printer.example/ipp/print"  # type: ignore[union-attr]
    assert cfg.queue("demo").destination == BUILTIN_DESTINATION  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "raw, key",
    [
        ({"server": {"port": "80"}}, "server.port"),
        ({"server": {"prot": 80}}, "server.prot"),
        ({"server": {"port": -1}}, "server.port"),
        ({"server": {"keepalive_timeout": True}}, "server.keepalive_timeout"),
        ({"storage": {"spool": 3}}, "storage.spool"),
        ({"storage": {"copy_max_bytes": 1048577}}, "storage.copy_max_bytes"),
        ({"storage": {"copy_max_bytes": -1}}, "storage.copy_max_bytes"),
        ({"queue": [{"name": "a"}, {"name": "a"}]}, "queue[1].name"),
        ({"queue": [{"name": "a", "destination": "file:///etc/passwd"}]}, "queue[0].destination"),
        ({"queue": [{"destination": "builtin"}]}, "queue[0].name"),
        ({"queue": [{"name": "../x"}]}, "queue[0].name"),
        ({"queue": []}, "queue"),
        ({"queue": {"name": "a"}}, "queue"),
        ({"servers": {}}, "servers"),
        ({"server": {"admins": "root"}}, "server.admins"),
        ({"analysis": {"user": "no-such-user-ippproxy"}}, "analysis.user"),
        ({"analysis": {"user": "root"}}, "analysis.user"),
        ({"server": {"max_active_jobs": -1}}, "server.max_active_jobs"),
        ({"release": {"station_idle": 0}}, "release.station_idle"),
        ({"release": {"station_idle": 901}}, "release.station_idle"),
        ({"release": {"station_card_needs_pin": "yes"}}, "release.station_card_needs_pin"),
        ({"release": {"station_pin": True}}, "release.station_pin"),
        ({"rule": [{"type": "max-copies", "limit": 2, "allow_print_as_other": True}]},
         "rule[0].allow_print_as_other"),
        ({"rule": [{"type": "ask-account", "allow_print_as_other": "yes"}]},
         "rule[0].allow_print_as_other"),
    ],
)
def test_errors_name_the_key(raw: dict, key: str) -> None:
    with pytest.raises(ConfigError) as e:
        from_dict(raw)
    assert e.value.key == key
    assert str(e.value).startswith(key + ":")


def test_server_admins_is_obsolete_and_check_config_names_the_replacement(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A name list made anyone who claimed one of its names an admin (issue 15)."""
    old = tmp_path / "old.toml"
    old.write_text('[server]\nadmins = ["root"]\n[[queue]]\nname = "q"\n')
    assert main(["check-config", str(old)]) == 2
    err = capsys.readouterr().err
    assert "server.admins: obsolete" in err and "admin role" in err and "unix_socket" in err


def test_check_config_command(tmp_path: Path) -> None:
    good = tmp_path / "good.toml"
    good.write_text('[[queue]]\nname = "q"\ndestination = "ipp://printer.example/ipp/print"\n')
    bad = tmp_path / "bad.toml"
    bad.write_text('[[queue]]\nname = "q"\ncolour = true\n')
    broken = tmp_path / "broken.toml"
    broken.write_text("[server\n")
    run = [sys.executable, "-m", "ippproxy.cli", "check-config"]
    ok = subprocess.run([*run, str(good)], capture_output=True, text=True, check=False)
    assert ok.returncode == 0 and "OK" in ok.stdout
    no = subprocess.run([*run, str(bad)], capture_output=True, text=True, check=False)
    assert no.returncode == 2 and "queue[0].colour: unknown key" in no.stderr
    no = subprocess.run([*run, str(broken)], capture_output=True, text=True, check=False)
    assert no.returncode == 2 and "not valid TOML" in no.stderr


# Every configuration value a server cannot run with (issue 16): check-config refuses it
# in one line naming the file and the key, exit status 2, never a traceback; `serve`
# refuses the same file the same way before it touches anything.
BAD = [
    ('[server]\nport = 99999\n', "server.port: a TCP port is 1 to 65535, got 99999"),
    ('[server]\nport = 0\n', "server.port: a TCP port is 1 to 65535, got 0"),
    ('[virtual_printer]\nport = 70000\n', "virtual_printer.port: a TCP port is 1 to 65535"),
    ('[server]\nlisten = "not an address"\n',
     "server.listen: not an IP address or host name: 'not an address'"),
    ('[virtual_printer]\nlisten = "a b"\n', "virtual_printer.listen: not an IP address"),
    ('[server]\nhostname = "bad_host!"\n', "server.hostname: not an IP address or host name"),
    ('[storage]\ndatabase = "mysql://u@h/db"\n',
     "storage.database: unsupported database 'mysql': ippproxy runs on sqlite and postgresql"),
    ('[storage]\ndatabase = "postgresql+psycopg2://u@h/db"\n',
     ("storage.database: the postgresql driver 'psycopg2' is not installed; "
     "use postgresql+psycopg://")),
    ('[storage]\ndatabase = "no url"\n', "storage.database: not a database URL"),
    ('[storage]\ndatabase = "sqlite://"\n', "storage.database: sqlite needs a file"),
    ('[storage]\nspool = " "\n', "storage.spool: must not be empty"),
    ('[storage]\ncatalog_poll_interval = 0\n',
     "storage.catalog_poll_interval: must be more than 0"),
    ('[storage]\npool_size = 0\n', "storage.pool_size: must be at least 1"),
    ('[forwarding]\npoll_interval = inf\n', "forwarding.poll_interval: must be a finite"),
    ('[forwarding]\nretry_initial = 10\nretry_max = 5\n',
     "forwarding.retry_max: must be at least forwarding.retry_initial"),
    ('[forwarding]\nconnect_timeout = 0\n', "forwarding.connect_timeout: must be more than 0"),
    ('[server]\nmax_attributes_bytes = 10\n',
     "server.max_attributes_bytes: must be at least 1024"),
    ('[server]\njob_history_seconds = 9223372036854775807\nkeepalive_timeout = 1e300\n',
     "server.keepalive_timeout: must be at most 9223372036854775807"),
    ('[analysis]\nworkers = 0\n', "analysis.workers: must be at least 1"),
    ('[analysis]\nmemory_mb = 1\n', "analysis.memory_mb: must be at least 64"),
    ('[accounting]\nsettle_interval = 0\n', "accounting.settle_interval: must be more than 0"),
    ('[[rule]]\ntype = "force-grayscale"\ngroups = ["students"]\n',
     "rule[0].groups: no [[group]] named 'students' in this file"),
    (('[[group]]\nname = "staff"\n[[rule]]\ntype = "force-grayscale"\n'
     'exempt_groups = ["staf"]\n'), "rule[0].exempt_groups: no [[group]] named 'staf'"),
]


@pytest.mark.parametrize("text, reason", BAD, ids=[r.split(":")[0] for _, r in BAD])
def test_check_config_refuses_each_bad_value_in_one_line(tmp_path: Path, text: str,
                                                          reason: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text + '[[queue]]\nname = "q"\n')
    r = subprocess.run([sys.executable, "-m", "ippproxy.cli", "check-config", str(path)],
                       capture_output=True, text=True, check=False)
    assert r.returncode == 2, r
    assert r.stdout == ""
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert r.stderr.startswith(f"ippproxy check-config: {path}: {reason}"), r.stderr


def test_serve_refuses_a_bad_value_before_touching_anything(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(f'[server]\nport = 99999\n[storage]\ndatabase = '
                    f'"sqlite:///{tmp_path}/db.sqlite"\nspool = "{tmp_path}/spool"\n')
    r = subprocess.run([sys.executable, "-m", "ippproxy.cli", "serve", "--config", str(path)],
                       capture_output=True, text=True, check=False, timeout=60)
    assert (r.returncode, r.stdout) == (2, "")
    assert r.stderr == (f"ippproxy serve: bad configuration: {path}: server.port: "
                        "a TCP port is 1 to 65535, got 99999\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml"]


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "x.toml"
    for args in (["check-config", str(missing)], ["serve", "--config", str(missing)],
                 ["cmd", "--config", str(missing), "list-users"]):
        r = subprocess.run([sys.executable, "-m", "ippproxy.cli", *args],
                           capture_output=True, text=True, check=False, timeout=60)
        assert r.returncode == 2, (args, r)
        assert r.stderr.count("\n") == 1, r.stderr
        assert f"cannot read {missing}: No such file or directory" in r.stderr


def test_good_values_at_the_edges_pass() -> None:
    cfg = from_dict({"server": {"port": 65535, "listen": "::1", "hostname": "print.example."},
                     "virtual_printer": {"port": 1, "listen": "localhost"},
                     "storage": {"database": "postgresql+psycopg://u@db.example/ipp"},
                     "forwarding": {"retry_initial": 5.0, "retry_max": 5.0}})
    assert (cfg.server.port, cfg.virtual_printer.port) == (65535, 1)
    assert from_dict({"storage": {"database": "postgresql://u@h/db"}}).storage.database
    assert from_dict({"server": {"listen": ""}}).server.listen == ""
    

def test_check_config_checks_the_analysis_user(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "workers.toml"
    path.write_text('[analysis]\nuser = "daemon"\n[[queue]]\nname = "q"\n')
    assert main(["check-config", str(path)]) == 0
    assert from_dict({"analysis": {"user": "daemon"}}).analysis.user == "daemon"
    path.write_text('[analysis]\nuser = "nobody-here"\n[[queue]]\nname = "q"\n')
    assert main(["check-config", str(path)]) == 2
    assert "analysis.user: no such user 'nobody-here'" in capsys.readouterr().err


def test_one_queue_at_most_is_marked_default() -> None:
    cfg = from_dict({"queue": [{"name": "a"}, {"name": "b", "default": True}]})
    assert [q.default for q in cfg.queues] == [False, True]
    with pytest.raises(ConfigError) as e:
        from_dict({"queue": [{"name": "a", "default": True}, {"name": "b", "default": True}]})
    assert e.value.key == "queue[1].default" and "'a' is the default" in str(e.value)


def test_dnssd_section() -> None:
    assert from_dict({}).dnssd.enabled is False
    assert from_dict({"dnssd": {"enabled": True}}).dnssd.enabled is True
    assert from_dict({"queue": [{"name": "a", "dnssd": False}]}).queues[0].dnssd is False
    with pytest.raises(ConfigError):
        from_dict({"dnssd": {"enabled": "yes"}})


def test_findme_printers_are_other_ordinary_queues() -> None:
    on = {"enabled": True}
    cfg = from_dict({"accounting": on, "queue": [{"name": "a"}, {"name": "b"},
                                                 {"name": "fm", "findme_printers": ["a", "b"]}]})
    assert cfg.queues[2].findme_printers == ("a", "b") and cfg.queues[0].findme_printers == ()
    for bad in (["a", "nowhere"], ["fm"], ["other"]):
        with pytest.raises(ConfigError) as e:
            from_dict({"accounting": on, "queue": [
                {"name": "a"}, {"name": "other", "findme_printers": ["a"]},
                {"name": "fm", "findme_printers": bad}]})
        assert e.value.key == "queue[2].findme_printers", bad
    with pytest.raises(ConfigError):
        from_dict({"accounting": on,
                   "queue": [{"name": "a"}, {"name": "fm", "findme_printers": "a"}]})
    with pytest.raises(ConfigError) as e:    # it holds and prices: accounting is needed
        from_dict({"queue": [{"name": "a"}, {"name": "fm", "findme_printers": ["a"]}]})
    assert e.value.key == "queue[1].findme_printers" and "accounting" in str(e.value)


def test_the_release_station_options() -> None:
    """A card alone suffices and a station session idles out after a minute, unless the
    file says otherwise (README "Secure release and PIN jobs")."""
    assert from_dict({}).release.station_card_needs_pin is False
    assert from_dict({}).release.station_idle == 60.0
    cfg = from_dict({"release": {"station_card_needs_pin": True, "station_idle": 30}})
    assert cfg.release.station_card_needs_pin is True and cfg.release.station_idle == 30.0


def test_trusting_the_desktop_user_needs_the_local_socket_and_accounting() -> None:
    assert from_dict({}).users.trust_desktop_user is False   # off unless the admin says so
    for raw, needs in (({}, "server.unix_socket"),
                       ({"server": {"unix_socket": "/run/ippproxy.sock"}}, "accounting")):
        with pytest.raises(ConfigError) as e:
            from_dict({**raw, "users": {"trust_desktop_user": True}})
        assert e.value.key == "users.trust_desktop_user" and needs in str(e.value)
    with pytest.raises(ConfigError, match="expected true or false"):
        from_dict({"users": {"trust_desktop_user": "yes"}})
    cfg = from_dict({"server": {"unix_socket": "/run/ippproxy.sock"},
                     "accounting": {"enabled": True}, "users": {"trust_desktop_user": True}})
    assert cfg.users.trust_desktop_user is True
