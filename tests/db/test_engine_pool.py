"""The SQLite engine keeps a connection for each of the server's threads."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import event, text

from ippproxy.db import make_engine
from ippproxy.db.engine import reading


def test_many_threads_reuse_their_connections(tmp_path: Path) -> None:
    """Sixteen threads reading at once, twice: the second round opens no connection
    (the default pool of 5 closed its overflow on return, so each round reopened it)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'pool.db'}")
    opened: list[object] = []
    event.listen(engine, "connect", lambda conn, rec: opened.append(conn))
    barrier = threading.Barrier(16)

    def reader() -> None:
        with reading(engine) as conn:
            barrier.wait(timeout=10)   # all sixteen hold a connection at the same time
            assert conn.execute(text("SELECT 1")).scalar() == 1

    def round_() -> None:
        threads = [threading.Thread(target=reader) for _ in range(16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=20)

    round_()
    first = len(opened)
    assert first == 16
    round_()
    assert len(opened) == first, "connections were reopened"
    engine.dispose()
