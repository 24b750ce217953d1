"""The systemd unit shipped in the package (ippproxy/systemd/ippproxy.service): systemd's
own ``systemd-analyze verify`` accepts it without a warning (its ExecStart pointed at this
installation's ``ippproxy``), and it keeps the hardening the README promises."""

from __future__ import annotations

import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

UNIT = resources.files("ippproxy") / "systemd" / "ippproxy.service"


def _entries(text: str) -> dict[str, list[str]]:
    """``Section.Key`` -> values, in order (a key may repeat)."""
    out: dict[str, list[str]] = {}
    section = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        out.setdefault(f"{section}.{key.strip()}", []).append(value.strip())
    return out


def test_the_unit_is_hardened() -> None:
    e = _entries(UNIT.read_text())
    one = {k: v[-1] for k, v in e.items()}
    assert one["Service.User"] == one["Service.Group"] == "ippproxy"
    assert one["Service.NoNewPrivileges"] == "yes"
    assert one["Service.ProtectSystem"] == "strict"
    assert one["Service.PrivateTmp"] == "yes"
    assert one["Service.ProtectHome"] == "yes"
    # The only writable place: the state directory that holds var/ (database, spool).
    assert one["Service.WorkingDirectory"] == "/var/lib/ippproxy"
    assert one["Service.ReadWritePaths"] == "/var/lib/ippproxy"
    assert one["Service.StateDirectory"] == "ippproxy"
    assert one["Service.CapabilityBoundingSet"] == "CAP_NET_BIND_SERVICE"
    assert one["Service.ExecStart"].split()[1:] == [
        "serve", "--config", "/etc/ippproxy/ippproxy.toml"]
    assert "Service.PermissionsStartOnly" not in e and "root" not in one["Service.User"]


def _ippproxy_command() -> str:
    found = shutil.which("ippproxy") or str(Path(sys.executable).parent / "ippproxy")
    assert Path(found).is_file(), "the ippproxy console script is not installed"
    return found


def test_systemd_analyze_verify_accepts_it(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.fail("systemd-analyze missing: `make test` installs the systemd package")
    text = UNIT.read_text().replace("/opt/ippproxy/bin/ippproxy", _ippproxy_command())
    unit = tmp_path / "ippproxy.service"
    unit.write_text(text)
    out = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True, check=False,
                         timeout=60)
    # verify only warns about a bad value (exit 0): any output is a failure here.
    assert out.returncode == 0 and out.stdout == out.stderr == "", out.stdout + out.stderr


def test_verify_would_catch_a_mistake(tmp_path: Path) -> None:
    """The check above can fail: a misspelt hardening value is reported."""
    analyze = shutil.which("systemd-analyze")
    assert analyze is not None
    text = UNIT.read_text().replace("/opt/ippproxy/bin/ippproxy", _ippproxy_command())
    unit = tmp_path / "ippproxy.service"
    unit.write_text(text.replace("ProtectSystem=strict", "ProtectSystem=strictly"))
    out = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True, check=False,
                         timeout=60)
    assert "ProtectSystem" in out.stderr or "protect system" in out.stderr.lower()
