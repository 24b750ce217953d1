"""PreparedInsert stores exactly what ``Connection.execute(insert(table), rows)`` stores,
on SQLite and on a throwaway PostgreSQL: same SQL text, same bind processing (JSON, the
SQLite datetime format, UTCDateTime, booleans, bytes, None)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, insert
from support.postgres import PostgresCluster, postgres_cluster  # noqa: F401

from ippproxy.db import make_engine, upgrade
from ippproxy.jobs._prepared import PreparedInsert
from ippproxy.jobs.models import documents_t, jobs_t, queues_t

UTC = dt.UTC


@pytest.fixture(params=["sqlite", "postgresql"])
def any_engine(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'p.db'}"
    else:
        cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
        url = cluster.create_database()
    eng = make_engine(url)
    upgrade(eng)
    yield eng
    eng.dispose()


def job_row(uuid: str, job_id: int, **over: Any) -> dict[str, Any]:
    row: dict[str, Any] = {c.key: None for c in jobs_t.columns}
    row.update(uuid=uuid, queue="q", job_id=job_id, state=3, state_reasons=["none", "x-ü"],
               owner="alice", attributes=b"\x00\x01\xff", priority=50, closed=True,
               forward_attempts=0, forward_started=False,
               created_at=dt.datetime(2026, 11, 22, 10, 0, 0, tzinfo=UTC),
               updated_at=dt.datetime(2026, 11, 22, 10, 0, 0, 123456, tzinfo=UTC),
               hold_until_time=dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.timezone(
                   dt.timedelta(hours=2))))
    row.update(over)
    return row


def raw(engine: Engine, sql: str, key: str) -> tuple[Any, ...]:
    """The row as the driver returns it (exec_driver_sql: no result processing)."""
    with engine.connect() as conn:
        r = conn.exec_driver_sql(sql.format(key=key)).one()
    return tuple(r)


@pytest.mark.parametrize("over", [
    {},
    {"analysis": {"pages": 3, "colour": [1, 2], "note": "é"}, "closed": False},
    {"analysis": None, "state_message": "m\nulti", "name": "名前"},
])
def test_same_stored_values_as_connection_execute(any_engine: Engine,
                                                  over: dict[str, Any]) -> None:
    prepared = PreparedInsert(jobs_t)
    with any_engine.begin() as conn:
        conn.execute(insert(queues_t), {"name": "q", "next_job_id": 3})
        conn.execute(insert(jobs_t), [job_row("a" * 36, 1, **over)])
        prepared.execute(conn, [job_row("b" * 36, 2, **over)])
    cols = ", ".join(c.name for c in jobs_t.columns if c.name not in ("uuid", "job_id"))
    sql = f"SELECT {cols} FROM jobs WHERE uuid = '{{key}}'"
    assert raw(any_engine, sql, "b" * 36) == raw(any_engine, sql, "a" * 36)


def test_params_ahead_and_a_late_job_id(any_engine: Engine) -> None:
    """Rows built on one thread, the job-id filled in and run on another (intake)."""
    jobs, docs = PreparedInsert(jobs_t), PreparedInsert(documents_t)
    params = jobs.params(any_engine.dialect, job_row("c" * 36, 0))
    params[jobs.slot(any_engine.dialect, "job_id")] = 77
    doc = docs.params(any_engine.dialect, {
        "job_uuid": "c" * 36, "number": 1, "name": None, "format": "application/pdf",
        "spool_name": "f" * 32, "size": 10, "sha256": "0" * 64, "compression": None,
        "created_at": dt.datetime(2026, 1, 1, tzinfo=UTC)})
    with any_engine.begin() as conn:
        conn.execute(insert(queues_t), {"name": "q", "next_job_id": 1})
        jobs.run(conn, [params])
        docs.run(conn, [doc])
        jobs.run(conn, [])  # nothing to do is fine
    with any_engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT job_id FROM jobs").scalar_one() == 77
        assert conn.exec_driver_sql("SELECT spool_name FROM documents").scalar_one() == "f" * 32
    with pytest.raises(ValueError, match="bind processor"):
        jobs.slot(any_engine.dialect, "created_at")  # a datetime is converted: not a slot


def test_rolls_back_with_the_transaction(any_engine: Engine) -> None:
    prepared = PreparedInsert(jobs_t)
    with any_engine.begin() as conn:
        conn.execute(insert(queues_t), {"name": "q", "next_job_id": 1})
    with pytest.raises(RuntimeError), any_engine.begin() as conn:
        prepared.execute(conn, [job_row("d" * 36, 1)])
        raise RuntimeError("the batch failed")
    with any_engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM jobs").scalar_one() == 0


def test_a_repeated_datetime_is_converted_once_and_never_goes_stale(any_engine: Engine,
                                                                    monkeypatch: Any) -> None:
    jobs = PreparedInsert(jobs_t)
    a = dt.datetime(2026, 1, 1, 8, 0, 0, 1, tzinfo=UTC)
    b = dt.datetime(2026, 1, 1, 9, 30, 0, tzinfo=UTC)
    expected = [jobs.params(any_engine.dialect, job_row("x" * 36, 9, created_at=t, updated_at=t))
                for t in (a, b)]
    calls: list[object] = []
    col = jobs_t.c.created_at.type
    real = type(col).process_bind_param

    def counting(self: Any, value: Any, dialect: Any) -> Any:
        calls.append(value)
        return real(self, value, dialect)

    monkeypatch.setattr(type(col), "process_bind_param", counting)
    fresh = PreparedInsert(jobs_t)  # compiled after the patch
    rows = [fresh.params(any_engine.dialect, job_row("x" * 36, 9, created_at=t, updated_at=t))
            for t in (a, b, a)]
    compiled = insert(jobs_t).compile(dialect=any_engine.dialect,
                                      column_keys=[c.key for c in jobs_t.columns])
    order = list(compiled.positiontup or [])

    def stamps(params: Any) -> tuple[Any, Any]:
        if isinstance(params, dict):
            return params["created_at"], params["updated_at"]
        return params[order.index("created_at")], params[order.index("updated_at")]

    want = [stamps(p) for p in expected]
    assert want[0] != want[1]
    assert [stamps(r) for r in rows] == [want[0], want[1], want[0]]
    # created_at and updated_at are one object per row: one conversion per row.
    assert calls.count(a) == 2 and calls.count(b) == 1
