"""Fixtures: a migrated SQLite database, the job store, the spool, one analysis pool, and
the pipeline built from a test config (real gs and pikepdf, no HTTP)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import Engine

from ippproxy.accounting import users
from ippproxy.accounting.txn import in_transaction
from ippproxy.config import Config, from_dict
from ippproxy.db import make_engine, upgrade
from ippproxy.db.engine import nowait_reader
from ippproxy.filters import detect
from ippproxy.filters.pool import AnalysisPool
from ippproxy.ipp import Attribute, RangeOfInteger, Tag
from ippproxy.jobs.spool import Spool
from ippproxy.jobs.store import JobStore
from ippproxy.pipeline import Intake, Pipeline, Submission, SubmissionChecks, runtime, settings
from ippproxy.pipeline.conversion import Converter
from ippproxy.pipeline.metering import Metering
from ippproxy.pipeline.settle import Settler

BASE: dict[str, Any] = {
    "accounting": {"enabled": True, "unknown_users": "create", "initial_balance": "5.00"},
    "cost_model": [{"name": "colour", "mono": "0.10", "color": "0.50", "duplex_discount": "0.5",
                    "job_fee": "0.05",
                    "media": [{"name": "iso_a3_297x420mm", "mono": "0.20", "color": "1.00"}]}],
    "group": [{"name": "staff", "multiplier": "0.5"}, {"name": "students"}],
    "rule": [{"type": "force-grayscale", "groups": ["students"]},
             {"type": "max-pages", "limit": 50}],
    "queue": [{"name": "colour", "cost_model": "colour"},
              {"name": "secure", "cost_model": "colour", "authentication": "basic"}],
}


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    eng = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest_asyncio.fixture
async def store(engine: Engine) -> AsyncIterator[JobStore]:
    async with JobStore(engine) as s:
        yield s


@pytest.fixture
def spool(tmp_path: Path) -> Spool:
    return Spool(tmp_path / "spool", 1 << 30)


@pytest_asyncio.fixture
async def pool() -> AsyncIterator[AnalysisPool]:
    async with AnalysisPool(2, queue_size=8, cpu_seconds=20, memory_bytes=1 << 30,
                            wall_seconds=60) as p:
        yield p


def config(**changes: Any) -> Config:
    raw: dict[str, Any] = {k: (dict(v) if isinstance(v, dict) else list(v))
                           for k, v in BASE.items()}
    for key, value in changes.items():
        old = raw.get(key)
        if isinstance(value, dict) and isinstance(old, dict):
            raw[key] = {**old, **value}
        else:
            raw[key] = value
    return from_dict(raw)


def build(cfg: Config, engine: Engine, store: JobStore, spool: Spool,
          pool: AnalysisPool) -> Pipeline:
    """The pipeline pieces without starting the settler's background task."""
    accounting = runtime.make_accounting(cfg, engine)
    accounting.define_groups(settings.groups(cfg))
    converter = Converter(pool, spool)
    converter.clean()
    # As the server wires it on SQLite: reservations in the job store's group commit, the
    # owner read on the loop's thread.
    intake = Intake(store, spool, runtime.make_chain(cfg, store),
                    Metering(cfg, accounting, converter, store.write, nowait_reader(engine)))
    return Pipeline(accounting, pool, intake, Settler(accounting, store))


# What the queues accept (the server builds this from the printer attributes).
CHECKS = SubmissionChecks({a.name: a for a in (
    Attribute.multi("document-format-supported", Tag.MIME_MEDIA_TYPE,
                    [detect.OCTET_STREAM, detect.PDF, detect.POSTSCRIPT, detect.PCL]),
    Attribute.single("copies-supported", Tag.RANGE_OF_INTEGER, RangeOfInteger(1, 999)),
    Attribute.multi("sides-supported", Tag.KEYWORD,
                    ["one-sided", "two-sided-long-edge", "two-sided-short-edge"]),
    Attribute.multi("number-up-supported", Tag.INTEGER, [1, 2, 4]),
    Attribute.single("page-ranges-supported", Tag.BOOLEAN, True),
    Attribute.multi("print-color-mode-supported", Tag.KEYWORD, ["color", "monochrome"]),
)})


async def _body(data: bytes) -> AsyncIterator[bytes]:
    if data:
        yield data


def submission(data: bytes = b"", *, user: str = "dave", queue: str = "colour",
               fmt: str = "application/pdf", attrs: tuple[Attribute, ...] = (),
               op: str = "Print-Job", ops: tuple[Attribute, ...] = ()) -> Submission:
    """A request as the server hands it to the pipeline."""
    return Submission(
        queue=queue, user=user, operation=op, checks=CHECKS,
        operation_attributes=(Attribute.single("document-format", Tag.MIME_MEDIA_TYPE, fmt),
                              *ops),
        job_attributes=attrs, job_name="t", body=_body(data))


def add_user(engine: Engine, name: str, *, balance: int, groups: tuple[str, ...] = (),
             restricted: bool = True, password: str | None = None) -> None:
    defaults = users.UserDefaults("EUR", balance, restricted, 0)
    in_transaction(engine, lambda c: users.add_user(
        c, name, defaults=defaults, groups=groups, internal=password is not None,
        password=password))
