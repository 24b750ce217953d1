"""PostgreSQL connections: pinged only after they sat idle, reads without a transaction,
and kept for the server's threads."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from psycopg.pq import TransactionStatus
from sqlalchemy import Engine, event, text
from support.postgres import PostgresCluster, pg_url, postgres_cluster  # noqa: F401

from ippproxy.db import make_engine
from ippproxy.db.engine import reading


def _counting_pings(engine: Engine) -> list[int]:
    """Counts the dialect's pings (the real ping still runs)."""
    pings: list[int] = []
    ping = engine.dialect.do_ping

    def counted(dbapi_conn: Any) -> bool:
        pings.append(1)
        return ping(dbapi_conn)

    engine.dialect.do_ping = counted  # type: ignore[method-assign]
    return pings


@pytest.fixture
def engines(pg_url: str) -> Iterator[list[Engine]]:  # noqa: F811
    made: list[Engine] = []
    yield made
    for e in made:
        e.dispose()


def _engine(engines: list[Engine], url: str, **kwargs: Any) -> Engine:
    engine = make_engine(url, **kwargs)
    engines.append(engine)
    return engine


def test_a_connection_back_in_use_at_once_is_not_pinged(pg_url: str,  # noqa: F811
                                                       engines: list[Engine]) -> None:
    engine = _engine(engines, pg_url, ping_after_idle=60.0)
    pings = _counting_pings(engine)
    for _ in range(5):
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar_one() == 1
    assert pings == []            # pool_pre_ping pinged at each of the 5 checkouts


def test_an_idle_connection_is_pinged_and_a_dead_one_replaced(
        pg_url: str, postgres_cluster: PostgresCluster,  # noqa: F811
        engines: list[Engine]) -> None:
    engine = _engine(engines, pg_url, ping_after_idle=0.05)
    pings = _counting_pings(engine)
    with engine.connect() as conn:
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    # The server ends that backend (as a restart or an idle timeout would) while the
    # connection waits in the pool.
    postgres_cluster.psql(f"SELECT pg_terminate_backend({pid})")
    time.sleep(0.1)
    with engine.connect() as conn:            # the ping fails: another connection
        assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() != pid
    assert len(pings) >= 1
    time.sleep(0.1)
    with engine.connect() as conn:            # idle again: pinged again, and alive
        assert conn.execute(text("SELECT 1")).scalar_one() == 1
    assert len(pings) >= 2


def test_reading_sends_no_begin_and_leaves_the_pool_transactional(
        pg_url: str, engines: list[Engine]) -> None:  # noqa: F811
    engine = _engine(engines, pg_url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (n integer)"))
    with reading(engine) as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar_one() == 0
        raw: Any = conn.connection.dbapi_connection
        # Autocommit: the SELECT opened no transaction on the server (READ COMMITTED
        # gives each statement its own snapshot either way).
        assert raw.info.transaction_status == TransactionStatus.IDLE
    # The connection goes back to the pool transactional: a write that fails rolls back.
    with pytest.raises(RuntimeError), engine.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES (1)"))
        assert conn.connection.dbapi_connection.info.transaction_status \
            == TransactionStatus.INTRANS  # type: ignore[union-attr]
        raise RuntimeError("rolled back")
    with reading(engine) as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar_one() == 0


def _hold_at_once(engine: Engine, threads: int) -> None:
    """``threads`` threads, each holding a connection of ``engine`` at the same moment."""
    barrier = threading.Barrier(threads)

    def reader() -> None:
        with reading(engine) as conn:
            barrier.wait(timeout=10)
            assert conn.execute(text("SELECT 1")).scalar_one() == 1

    running = [threading.Thread(target=reader) for _ in range(threads)]
    for t in running:
        t.start()
    for t in running:
        t.join(timeout=20)


def test_the_server_threads_reuse_their_connections(pg_url: str,  # noqa: F811
                                                    engines: list[Engine]) -> None:
    """Twelve threads at once (a loaded node: the executor's, the job store's readers
    and writer, the settlement), twice: the second round opens no connection. With
    SQLAlchemy's pool of 5 the other 7 were closed on return and opened again (a backend
    forked and authenticated each time): about one every 16 jobs under load."""
    engine = _engine(engines, pg_url)
    opened: list[object] = []
    event.listen(engine, "connect", lambda conn, rec: opened.append(conn))
    _hold_at_once(engine, 12)
    assert len(opened) == 12
    _hold_at_once(engine, 12)
    assert len(opened) == 12, "connections were closed and opened again"


def test_the_pool_size_is_the_servers_setting(pg_url: str,  # noqa: F811
                                              engines: list[Engine]) -> None:
    """``storage.pool_size`` connections are kept; a burst above opens more, closed
    when given back."""
    engine = _engine(engines, pg_url, pg_pool=3)
    opened: list[object] = []
    event.listen(engine, "connect", lambda conn, rec: opened.append(conn))
    _hold_at_once(engine, 5)
    _hold_at_once(engine, 5)
    assert len(opened) == 5 + 2   # 3 kept, the burst's 2 others opened again
