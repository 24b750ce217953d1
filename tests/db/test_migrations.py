"""``upgrade``: Alembic brings a database to the head; a database already there is told so
by one read, without loading Alembic's scripts (every ``ippproxy cmd`` and server start
opens the database)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, event, text
from support.postgres import empty_db_url, postgres_cluster  # noqa: F401

from ippproxy.db import make_engine, upgrade
from ippproxy.db.engine import MIGRATIONS, head_revision


@pytest.fixture
def engine(empty_db_url: str) -> Iterator[Engine]:  # noqa: F811
    e = make_engine(empty_db_url)
    yield e
    e.dispose()


def _statements(engine: Engine) -> list[str]:
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    return seen


def _version(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return [v for (v,) in conn.execute(text("SELECT version_num FROM alembic_version"))]


def test_the_head_is_alembics() -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    assert head_revision() == ScriptDirectory.from_config(cfg).get_current_head()


def test_at_head_one_read_else_alembic(engine: Engine) -> None:
    seen = _statements(engine)
    upgrade(engine, "0018_owner_index")         # an older schema: what a new version finds
    assert _version(engine) == ["0018_owner_index"]
    seen.clear()
    upgrade(engine)                             # not at the head: Alembic runs the rest
    assert _version(engine) == [head_revision()]
    assert any("ipp_subscriptions" in s for s in seen), seen
    seen.clear()
    upgrade(engine)                             # at the head: one read, nothing else
    assert seen == ["SELECT version_num FROM alembic_version"]


def test_a_new_database_is_created(engine: Engine) -> None:
    upgrade(engine)
    assert _version(engine) == [head_revision()]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM jobs")).scalar_one() == 0
