"""The ranges of configuration values: what ``check-config`` and the start refuse.

Each check takes a value and returns ``None`` when it is fine, else the reason in a few
words; ``ippproxy.config`` raises it as a ``ConfigError`` naming the key. So a port
out of range, an address that does not parse or a database the server cannot use is
reported before anything starts, in one line, never as a traceback from the socket or
database library.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import math
import re

# RFC 1123 §2.1 host names: labels of letters, digits and hyphens, dots between.
_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")
# The databases ippproxy runs on (its migrations are written for both), with the
# drivers SQLAlchemy may name and the module each needs.
DIALECTS = {"sqlite": {"pysqlite": "sqlite3"},
            "postgresql": {"psycopg": "psycopg", "psycopg2": "psycopg2"}}
LARGEST_INT = 2**63 - 1


def port(value: int) -> str | None:
    if not 1 <= value <= 65535:
        return f"a TCP port is 1 to 65535, got {value}"
    return None


def host(value: str, *, empty: bool = False) -> str | None:
    """An IP address or a host name (resolved when the server starts)."""
    if not value:
        return None if empty else "must not be empty"
    try:
        ipaddress.ip_address(value.strip("[]"))
        return None
    except ValueError:
        pass
    name = value.removesuffix(".")
    if len(name) <= 253 and all(_LABEL.fullmatch(label) for label in name.split(".")):
        return None
    return f"not an IP address or host name: {value!r}"


def database(url: str) -> str | None:
    """A SQLAlchemy URL of a supported dialect whose driver is installed."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        u = make_url(url)
    except (ArgumentError, ValueError):
        return (f"not a database URL: {url!r} (expected sqlite:///PATH or "
                "postgresql+psycopg://USER@HOST/NAME)")
    backend, driver = u.get_backend_name(), u.get_driver_name()
    drivers = DIALECTS.get(backend)
    if drivers is None:
        return (f"unsupported database {backend!r}: ippproxy runs on "
                f"{' and '.join(DIALECTS)} (sqlite:///PATH, postgresql+psycopg://...)")
    module = drivers.get(driver)   # without "+driver": the dialect's default driver
    if module is None or importlib.util.find_spec(module) is None:
        usable = [f"{backend}+{d}" for d, m in drivers.items()
                  if d and importlib.util.find_spec(m) is not None]
        return (f"the {backend} driver {driver!r} is not installed; "
                f"use {' or '.join(usable) or backend}://...")
    if backend == "sqlite" and not u.database:
        return "sqlite needs a file: sqlite:///PATH (relative) or sqlite:////PATH (absolute)"
    return None


def number(value: float, *, low: float, high: float | None = None,
           low_open: bool = False) -> str | None:
    """``low`` <= value (< when ``low_open``) <= ``high``, and finite."""
    if isinstance(value, float) and not math.isfinite(value):
        return f"must be a finite number, got {value}"
    if value < low or (low_open and value == low):
        return f"must be more than {_text(low)}" if low_open else \
            f"must be at least {_text(low)}"
    top = LARGEST_INT if high is None else high
    if value > top:
        return f"must be at most {_text(top)}"
    return None


def _text(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)
