"""The user's token: the session the server answered at login, kept per server and user in
the user's config directory, readable and writable by the user only (mode 0600; on
Windows the profile directory is already private to the user).

The directory: ``--config-dir``, else ``%APPDATA%\\ippproxy-client`` on Windows,
``~/Library/Application Support/ippproxy-client`` on macOS, and
``$XDG_CONFIG_HOME/ippproxy-client`` (default ``~/.config``) elsewhere (XDG Base Directory
Specification 0.8)."""

from __future__ import annotations

import hashlib
import json
import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

APP = "ippproxy-client"


@dataclass(frozen=True)
class Saved:
    server: str
    user: str
    session: str
    csrf: str


def config_dir() -> Path:
    if sys.platform == "win32":
        base = Path(os.environ.get("APPDATA") or Path.home() / "AppData" / "Roaming")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / APP


class TokenStore:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, server: str) -> Path:
        # One file per server: the name is a hash, the server's URL is inside.
        digest = hashlib.sha256(server.encode()).hexdigest()[:16]
        return self.directory / f"session-{digest}.json"

    def load(self, server: str) -> Saved | None:
        try:
            found = json.loads(self._path(server).read_text(encoding="utf-8"))
            saved = Saved(**{k: str(found[k]) for k in ("server", "user", "session", "csrf")})
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return saved if saved.server == server else None

    def save(self, saved: Saved) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self._path(saved.server)
        part = path.with_suffix(".part")
        # Created 0600 from the start (never readable by others, not even briefly).
        fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(asdict(saved), f)
        os.chmod(part, 0o600)
        os.replace(part, path)
        return path

    def forget(self, server: str) -> None:
        try:
            self._path(server).unlink()
        except FileNotFoundError:
            pass
