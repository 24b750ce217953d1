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
    assert main(["check-config", str(old)]) == 1
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
    assert no.returncode == 1 and "queue[0].colour: unknown key" in no.stderr
    no = subprocess.run([*run, str(broken)], capture_output=True, text=True, check=False)
    assert no.returncode == 1 and "not valid TOML" in no.stderr


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
