"""The catalog's reads and writes: one transaction per change, the version bumped and the
audit entry written in it.

Theory of operation
-------------------
A change is ``with catalog.change() as tx:``: the transaction starts by bumping
``catalog_version`` (on PostgreSQL the row lock serialises the catalog's writers, so a
read-check-write inside it cannot race another node's; on SQLite ``BEGIN IMMEDIATE``
does the same), then the caller reads, checks and writes through ``tx`` and adds its
audit entries (``tx.audit``); everything commits together, or nothing does (an exception
rolls it back, the version included). Readers (``version``, ``snapshot``) never take a
write lock. Blocking: call from a thread.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from ippproxy.config import (
    CostModelConfig,
    MediaPriceConfig,
    QueueConfig,
    RuleConfig,
)
from ippproxy.db.engine import reading

from .audit import AuditEntry, AuditQuery, count_audit, read_audit
from .models import (
    audit_log_t,
    catalog_cost_models_t,
    catalog_options_t,
    catalog_queues_t,
    catalog_rules_t,
    catalog_version_t,
)
from .snapshot import Kind, Snapshot


class Duplicate(Exception):
    """An object of that kind and name exists already (a concurrent create lost)."""


def spec(obj: object) -> dict[str, Any]:
    """A config object as the JSON of its table (tuples as lists)."""
    raw: dict[str, Any] = json_safe(dataclasses.asdict(obj))  # type: ignore[call-overload]
    return raw


def json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def _tuples(raw: dict[str, Any]) -> dict[str, Any]:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()}


def queue_of(raw: dict[str, Any]) -> QueueConfig:
    return QueueConfig(**_tuples(raw))     # approvers: a list in JSON


def cost_model_of(raw: dict[str, Any]) -> CostModelConfig:
    media = tuple(MediaPriceConfig(**m) for m in raw.get("media", ()))
    return CostModelConfig(**{**raw, "media": media})


def rule_of(raw: dict[str, Any]) -> RuleConfig:
    return RuleConfig(**_tuples(raw))


class Tx:
    """One change's reads and writes (``Catalog.change``)."""

    def __init__(self, conn: Connection, now: dt.datetime) -> None:
        self.conn, self.now = conn, now

    # -- queues ---------------------------------------------------------------------------
    def queue(self, name: str) -> tuple[QueueConfig, bool] | None:
        """The queue and whether it is provisioned."""
        t = catalog_queues_t
        row = self.conn.execute(select(t.c.spec, t.c.provisioned)
                                .where(t.c.name == name)).one_or_none()
        return None if row is None else (queue_of(row.spec), bool(row.provisioned))

    def queue_names(self) -> list[str]:
        t = catalog_queues_t
        return list(self.conn.execute(select(t.c.name).order_by(t.c.position, t.c.name))
                    .scalars())

    def put_queue(self, q: QueueConfig, *, provisioned: bool = False) -> None:
        t = catalog_queues_t
        values = {"destination": q.destination, "cost_model": q.cost_model,
                  "provisioned": provisioned, "spec": spec(q)}
        if self.conn.execute(update(t).where(t.c.name == q.name).values(**values)).rowcount:
            return
        position = self.conn.execute(select(func.coalesce(func.max(t.c.position), 0) + 1)
                                     ).scalar_one()
        self._insert(insert(t).values(name=q.name, position=position, **values))

    def delete_queue(self, name: str) -> None:
        self.conn.execute(delete(catalog_queues_t).where(catalog_queues_t.c.name == name))

    def queues_using(self, cost_model: str) -> list[str]:
        t = catalog_queues_t
        return list(self.conn.execute(select(t.c.name).where(t.c.cost_model == cost_model)
                                      .order_by(t.c.name)).scalars())

    # -- cost models ----------------------------------------------------------------------
    def cost_model(self, name: str) -> tuple[CostModelConfig, bool] | None:
        t = catalog_cost_models_t
        row = self.conn.execute(select(t.c.spec, t.c.provisioned)
                                .where(t.c.name == name)).one_or_none()
        return None if row is None else (cost_model_of(row.spec), bool(row.provisioned))

    def put_cost_model(self, m: CostModelConfig, *, provisioned: bool = False) -> None:
        t = catalog_cost_models_t
        values = {"provisioned": provisioned, "spec": spec(m)}
        if self.conn.execute(update(t).where(t.c.name == m.name).values(**values)).rowcount:
            return
        self._insert(insert(t).values(name=m.name, **values))

    def cost_model_names(self) -> list[str]:
        t = catalog_cost_models_t
        return list(self.conn.execute(select(t.c.name).order_by(t.c.name)).scalars())

    def delete_cost_model(self, name: str) -> None:
        t = catalog_cost_models_t
        self.conn.execute(delete(t).where(t.c.name == name))

    # -- rules ----------------------------------------------------------------------------
    def rule(self, name: str) -> tuple[RuleConfig, bool] | None:
        t = catalog_rules_t
        row = self.conn.execute(select(t.c.spec, t.c.provisioned)
                                .where(t.c.name == name)).one_or_none()
        return None if row is None else (rule_of(row.spec), bool(row.provisioned))

    def rules(self) -> list[RuleConfig]:
        t = catalog_rules_t
        return [rule_of(s) for s in self.conn.execute(
            select(t.c.spec).order_by(t.c.position, t.c.name)).scalars()]

    def put_rule(self, r: RuleConfig, *, provisioned: bool = False,
                 position: int | None = None) -> None:
        """Insert or replace; a new rule goes last unless ``position`` is given."""
        t = catalog_rules_t
        values: dict[str, Any] = {"provisioned": provisioned, "spec": spec(r)}
        if position is not None:
            values["position"] = position
        if self.conn.execute(update(t).where(t.c.name == r.name).values(**values)).rowcount:
            return
        if position is None:
            values["position"] = self.conn.execute(
                select(func.coalesce(func.max(t.c.position), 0) + 1)).scalar_one()
        self._insert(insert(t).values(name=r.name, **values))

    def delete_rule(self, name: str) -> None:
        self.conn.execute(delete(catalog_rules_t).where(catalog_rules_t.c.name == name))

    # -- options --------------------------------------------------------------------------
    def option(self, key: str) -> Any:
        """The stored value, or None when the key is not set in the database."""
        t = catalog_options_t
        row = self.conn.execute(select(t.c.value).where(t.c.key == key)).one_or_none()
        return None if row is None else row.value

    def set_option(self, key: str, value: Any) -> None:
        t = catalog_options_t
        if not self.conn.execute(update(t).where(t.c.key == key).values(value=value)).rowcount:
            self._insert(insert(t).values(key=key, value=value))

    def clear_option(self, key: str) -> None:
        self.conn.execute(delete(catalog_options_t).where(catalog_options_t.c.key == key))

    # -- the audit log --------------------------------------------------------------------
    def audit(self, *, actor: str, via: str, action: str, kind: Kind, name: str,
              before: Any = None, after: Any = None) -> None:
        self.conn.execute(insert(audit_log_t).values(
            at=self.now, actor=actor, via=via, action=action, kind=str(kind), name=name,
            before=json_safe(before), after=json_safe(after)))

    def _insert(self, stmt: Any) -> None:
        try:
            with self.conn.begin_nested():
                self.conn.execute(stmt)
        except IntegrityError as e:
            raise Duplicate(str(e.orig)) from e


class Catalog:
    """The catalog on one engine; safe to share between threads."""

    def __init__(self, engine: Engine,
                 clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)) -> None:
        self.engine, self.clock = engine, clock

    @contextlib.contextmanager
    def change(self) -> Iterator[Tx]:
        with self.engine.begin() as conn:
            conn.execute(update(catalog_version_t).where(catalog_version_t.c.id == 1)
                         .values(version=catalog_version_t.c.version + 1))
            yield Tx(conn, self.clock())

    def read(self, fn: Callable[[Tx], Any]) -> Any:
        """``fn`` over a read-only view (no version bump, no write lock)."""
        with reading(self.engine) as conn:
            return fn(Tx(conn, self.clock()))

    def version(self) -> int:
        """The change counter (the watchers' cheap read)."""
        with reading(self.engine) as conn:
            return int(conn.execute(select(catalog_version_t.c.version)
                                    .where(catalog_version_t.c.id == 1)).scalar_one())

    def snapshot(self) -> Snapshot:
        """Everything the catalog holds: on SQLite one snapshot; on PostgreSQL (READ
        COMMITTED, db.engine.reading) statement by statement, the version first, so a
        change made meanwhile has a higher version and is read again at the next poll."""
        with reading(self.engine) as conn:
            v = catalog_version_t
            version = int(conn.execute(select(v.c.version).where(v.c.id == 1)).scalar_one())
            q, m, r, o = (catalog_queues_t, catalog_cost_models_t, catalog_rules_t,
                          catalog_options_t)
            queues = conn.execute(select(q.c.name, q.c.spec, q.c.provisioned)
                                  .order_by(q.c.position, q.c.name)).all()
            models = conn.execute(select(m.c.name, m.c.spec, m.c.provisioned)
                                  .order_by(m.c.name)).all()
            rules = conn.execute(select(r.c.name, r.c.spec, r.c.provisioned)
                                 .order_by(r.c.position, r.c.name)).all()
            options = conn.execute(select(o.c.key, o.c.value).order_by(o.c.key)).all()
        provisioned = {(Kind.QUEUE, x.name) for x in queues if x.provisioned}
        provisioned |= {(Kind.COST_MODEL, x.name) for x in models if x.provisioned}
        provisioned |= {(Kind.RULE, x.name) for x in rules if x.provisioned}
        return Snapshot(
            version=version, queues=tuple(queue_of(x.spec) for x in queues),
            cost_models=tuple(cost_model_of(x.spec) for x in models),
            rules=tuple(rule_of(x.spec) for x in rules),
            options=tuple((x.key, x.value) for x in options),
            provisioned=frozenset(provisioned))

    def record(self, *, actor: str, via: str, action: str, kind: Kind, name: str,
               before: Any = None, after: Any = None) -> None:
        """One audit entry for a change made outside the catalog (a token, a job, an
        account), in its own transaction: the catalog's version is not bumped."""
        with self.engine.begin() as conn:
            self.recording(actor=actor, via=via, action=action, kind=kind, name=name,
                           before=before, after=after)(conn)

    def recording(self, *, actor: str, via: str, action: str, kind: Kind, name: str,
                  before: Any = None, after: Any = None) -> Callable[[Connection], None]:
        """``record`` as a unit of work for the caller's transaction: a caller that has a
        group commit (SQLite: ``accounting.txn``) shares its batch's one sync of the log
        instead of holding the write lock through a sync of its own."""
        def unit(conn: Connection) -> None:
            Tx(conn, self.clock()).audit(actor=actor, via=via, action=action, kind=kind,
                                         name=name, before=before, after=after)
        return unit

    def audit_log(self, query: AuditQuery) -> list[AuditEntry]:
        with reading(self.engine) as conn:
            return read_audit(conn, query)

    def audit_count(self, action: str, since: dt.datetime) -> int:
        """How many entries of ``action`` the log has since ``since`` (every node's)."""
        with reading(self.engine) as conn:
            return count_audit(conn, action, since)
