"""The config keys that may be set in the database ("options"), and their checks.

Each is a key of the configuration file's ``[accounting]`` or ``[analysis]`` table that the
running server reads per job, so a change takes effect on every node within the watcher's
interval. The file's value is the default; a value set in the database wins. A value is
checked as the file's would be (``ippproxy.config.from_dict``), so both say the same.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ippproxy.config import AccountingConfig, AnalysisConfig, ConfigError, UsersConfig, from_dict

# key -> the dataclass of its section
OPTIONS: dict[str, type] = {
    "accounting.default_cost_model": AccountingConfig,
    "accounting.unknown_users": AccountingConfig,
    "accounting.new_user_group": AccountingConfig,
    "accounting.initial_balance": AccountingConfig,
    "accounting.restricted": AccountingConfig,
    "accounting.credit_limit": AccountingConfig,
    "accounting.trust_printer_counts": AccountingConfig,
    "accounting.popup_timeout": AccountingConfig,
    "accounting.low_credit_threshold": AccountingConfig,
    "accounting.client_alert": AccountingConfig,
    "accounting.release_expiry": AccountingConfig,
    "analysis.unknown_pages": AnalysisConfig,
    "users.pin_length_min": UsersConfig,
    "users.pin_length_max": UsersConfig,
    "users.id_number_length_min": UsersConfig,
    "users.username_prefix": UsersConfig,
    "users.password_length_min": UsersConfig,
    "users.uuid_printer_urls": UsersConfig,
}
# Checked against the catalog's cost models by the options service, not here.
REFERENCES_COST_MODEL = "accounting.default_cost_model"


class UnknownOption(ConfigError):
    def __init__(self, key: str) -> None:
        super().__init__(key, f"not an option; options are {', '.join(sorted(OPTIONS))}")


def check(key: str, value: Any) -> Any:
    """The value as stored, or ``ConfigError`` naming ``key``. A string given for a
    bool or number key (from a command line) is read as TOML would read it."""
    if key not in OPTIONS:
        raise UnknownOption(key)
    section, name = key.split(".", 1)
    field = next(f for f in dataclasses.fields(OPTIONS[key]) if f.name == name)
    if isinstance(value, str) and field.type in ("bool", bool):
        value = {"true": True, "false": False}.get(value, value)
    if key == REFERENCES_COST_MODEL:
        if not isinstance(value, str):
            raise ConfigError(key, f"expected a string, got {value!r}")
        return value
    from_dict({section: {name: value}})  # raises ConfigError naming the key
    return value

