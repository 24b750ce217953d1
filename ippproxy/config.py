"""The one typed configuration, loaded from TOML and passed down.

Every key is declared here, with its type and default; an unknown key or a
value of the wrong type is a ``ConfigError`` that names the key by its dotted
path (``queue[1].destination``), so ``ippproxy check-config`` can point at it.
README.md documents each key; keep the two in step.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

BUILTIN_DESTINATION = "builtin"
QUEUE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,126}$")


class ConfigError(ValueError):
    """A configuration problem; ``key`` is the dotted path of the offending key."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key


@dataclass(frozen=True)
class ServerConfig:
    listen: str = "127.0.0.1"
    port: int = 8631
    # Public host name used in printer-uri-supported / job-uri; empty: the request's Host.
    hostname: str = ""
    keepalive_timeout: float = 75.0
    # Deadline for reading the IPP attribute section of one request (slowloris guard).
    header_timeout: float = 30.0
    max_attributes_bytes: int = 1 << 20
    # Largest document accepted, after decompression (0 = unlimited).
    max_document_bytes: int = 1 << 30
    # Seconds completed/canceled/aborted jobs stay visible in Get-Jobs (which-jobs=completed).
    job_history_seconds: int = 86400
    # Admin operations (Pause-Printer, ...) are allowed only to these users.
    admins: tuple[str, ...] = ("root",)


@dataclass(frozen=True)
class StorageConfig:
    database: str = "sqlite:///var/ippproxy.db"
    spool: str = "var/spool"


@dataclass(frozen=True)
class ForwardingConfig:
    # Retry back-off for unreachable or busy destinations, in seconds.
    retry_initial: float = 2.0
    retry_max: float = 60.0
    # How often a forwarded job is polled with Get-Job-Attributes.
    poll_interval: float = 1.0
    # How long cached Get-Printer-Attributes of a destination are trusted.
    attributes_ttl: float = 300.0
    connect_timeout: float = 10.0


@dataclass(frozen=True)
class VirtualPrinterConfig:
    """The built-in virtual printer that ``destination = "builtin"`` queues use."""

    listen: str = "127.0.0.1"
    port: int = 8632
    # Keep received documents under spool/virtual (false: discard after counting).
    keep_documents: bool = False
    color: bool = True
    duplex: bool = True


@dataclass(frozen=True)
class QueueConfig:
    name: str
    destination: str = BUILTIN_DESTINATION
    info: str = ""
    location: str = ""
    # Send Print-Job even when the destination supports Create-Job/Send-Document.
    force_print_job: bool = False


@dataclass(frozen=True)
class Config:
    server: ServerConfig = field(default_factory=ServerConfig)
    storage: StorageConfig = field(default_factory=StorageConfig)
    forwarding: ForwardingConfig = field(default_factory=ForwardingConfig)
    virtual_printer: VirtualPrinterConfig = field(default_factory=VirtualPrinterConfig)
    queues: tuple[QueueConfig, ...] = (QueueConfig(name="default"),)

    def queue(self, name: str) -> QueueConfig | None:
        for q in self.queues:
            if q.name == name:
                return q
        return None


def _coerce(key: str, typ: Any, value: Any) -> Any:
    if typ is bool:
        if not isinstance(value, bool):
            raise ConfigError(key, f"expected true or false, got {value!r}")
        return value
    if typ is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(key, f"expected an integer, got {value!r}")
        if value < 0:
            raise ConfigError(key, "must not be negative")
        return value
    if typ is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(key, f"expected a number, got {value!r}")
        if value < 0:
            raise ConfigError(key, "must not be negative")
        return float(value)
    if typ is str:
        if not isinstance(value, str):
            raise ConfigError(key, f"expected a string, got {value!r}")
        return value
    if typ == tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(key, "expected a list of strings")
        return tuple(value)
    raise ConfigError(key, f"unsupported type {typ}")  # pragma: no cover


def _section(cls: type, key: str, raw: Any, **fixed: Any) -> Any:
    if not isinstance(raw, dict):
        raise ConfigError(key, "expected a table")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = {f.name: f.type for f in dataclasses.fields(cls)}
    types = {name: eval(t, globals()) if isinstance(t, str) else t for name, t in hints.items()}
    kwargs: dict[str, Any] = dict(fixed)
    for name, value in raw.items():
        sub = f"{key}.{name}" if key else name
        if name not in fields or name in fixed:
            raise ConfigError(sub, "unknown key")
        kwargs[name] = _coerce(sub, types[name], value)
    missing = [n for n, f in fields.items() if n not in kwargs
               and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    if missing:
        raise ConfigError(f"{key}.{missing[0]}" if key else missing[0], "required key missing")
    return cls(**kwargs)


def _check_destination(key: str, dest: str) -> None:
    if dest == BUILTIN_DESTINATION:
        return
    parts = urlsplit(dest)
    if parts.scheme not in ("ipp", "ipps", "http", "https") or not parts.hostname:
        raise ConfigError(key, f"expected \"builtin\" or an ipp:// or ipps:// URI, got {dest!r}")


def from_dict(raw: dict[str, Any]) -> Config:
    """Build a Config from parsed TOML, naming the first bad key."""
    sections = {"server": ServerConfig, "storage": StorageConfig,
                "forwarding": ForwardingConfig, "virtual_printer": VirtualPrinterConfig}
    kwargs: dict[str, Any] = {}
    for name, value in raw.items():
        if name in sections:
            kwargs[name] = _section(sections[name], name, value)
        elif name == "queue":
            if not isinstance(value, list):
                raise ConfigError("queue", "expected an array of tables ([[queue]])")
            queues = []
            for i, q in enumerate(value):
                key = f"queue[{i}]"
                queue = _section(QueueConfig, key, q)
                if not QUEUE_NAME.match(queue.name):
                    raise ConfigError(f"{key}.name", "letters, digits, '_', '.', '-' only")
                if any(other.name == queue.name for other in queues):
                    raise ConfigError(f"{key}.name", f"duplicate queue {queue.name!r}")
                _check_destination(f"{key}.destination", queue.destination)
                queues.append(queue)
            if not queues:
                raise ConfigError("queue", "at least one queue is needed")
            kwargs["queues"] = tuple(queues)
        else:
            raise ConfigError(name, "unknown key")
    return Config(**kwargs)


def load(path: str | Path) -> Config:
    try:
        with open(path, "rb") as f:
            raw = tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError("(file)", f"not valid TOML: {e}") from e
    except OSError as e:
        raise ConfigError("(file)", f"cannot read: {e.strerror}") from e
    return from_dict(raw)
