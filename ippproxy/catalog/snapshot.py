"""What the catalog holds at one version, as the config types the consumers already read.

A ``Snapshot`` is read in one transaction (``Catalog.snapshot``) and never changes; the
watcher publishes a new one when the version moves. ``apply(config)`` gives the effective
``Config``: the node settings of the file with the catalog's queues, cost models, rules
and options in place of the file's (the file's objects were provisioned into the catalog
at start), so that the server, the forwarder and the pipeline keep reading one typed
``Config``.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass
from typing import Any

from ippproxy.config import Config, CostModelConfig, QueueConfig, RuleConfig


class Kind(enum.StrEnum):
    """The kinds of object the catalog and the audit log name."""

    QUEUE = "queue"
    COST_MODEL = "cost_model"
    RULE = "rule"
    GROUP = "group"
    OPTION = "option"
    # Named by the audit log only (the admin side's own changes: services/auditsink.py).
    ACCOUNT = "account"
    ADMIN = "admin"
    JOB = "job"
    TOKEN = "token"
    USER = "user"
    DIRECTORY = "directory"  # the LDAP user source's syncs (services/user_sync.py)


@dataclass(frozen=True)
class Snapshot:
    version: int
    queues: tuple[QueueConfig, ...] = ()
    cost_models: tuple[CostModelConfig, ...] = ()
    rules: tuple[RuleConfig, ...] = ()
    # Config keys set in the database ("accounting.default_cost_model"), in key order.
    options: tuple[tuple[str, Any], ...] = ()
    # (kind, name) of every object the configuration file declares (read-only).
    provisioned: frozenset[tuple[Kind, str]] = frozenset()

    def queue(self, name: str) -> QueueConfig | None:
        return next((q for q in self.queues if q.name == name), None)

    def cost_model(self, name: str) -> CostModelConfig | None:
        return next((m for m in self.cost_models if m.name == name), None)

    def rule(self, name: str) -> RuleConfig | None:
        return next((r for r in self.rules if r.name == name), None)

    def is_provisioned(self, kind: Kind, name: str) -> bool:
        return (kind, name) in self.provisioned

    def apply(self, config: Config) -> Config:
        """``config`` with the catalog's objects and options in place of the file's."""
        sections: dict[str, dict[str, Any]] = {}
        for key, value in self.options:
            section, name = key.split(".", 1)
            sections.setdefault(section, {})[name] = value
        changed = {s: dataclasses.replace(getattr(config, s), **values)
                   for s, values in sections.items()}
        return dataclasses.replace(config, queues=self.queues, cost_models=self.cost_models,
                                   rules=self.rules, **changed)
