"""The personal data download (issue 18): time and peak Python memory of one user's ZIP
with N transactions, on SQLite.

    .venv/bin/python benchmarks/bench_user_export.py [--transactions N]

The ZIP is built in memory (``services/user_life.py``); this shows how it grows with the
history, and prints the ZIP's size.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import tracemalloc
from pathlib import Path

from sqlalchemy import Connection

from ippproxy.accounting import ledger, users
from ippproxy.accounting.txn import in_transaction
from ippproxy.config import UsersConfig
from ippproxy.db import make_engine, upgrade
from ippproxy.services.actor import Actor, Via
from ippproxy.services.auditsink import LogAudit
from ippproxy.services.user_life import UserLife


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--transactions", type=int, default=20000)
    a = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'db.sqlite'}")
        upgrade(engine)

        def fill(conn: Connection) -> None:
            uid = users.add_user(conn, "jane", defaults=users.UserDefaults())
            account = users.personal_account(conn, uid)._mapping["id"]
            for i in range(a.transactions):
                ledger.post(conn, account, 1 if i % 2 else -1, kind=ledger.Kind.ADJUST,
                            reason=f"row {i}", actor="bench", key=f"k{i}")
        in_transaction(engine, fill)
        life = UserLife(engine, LogAudit(), UsersConfig, lambda: "EUR")
        admin = Actor("admin", Via.COMMAND, superuser=True)
        start = time.perf_counter()
        data = life.export_zip(admin, "jane")
        took = time.perf_counter() - start
        tracemalloc.start()  # a second run, for its peak (tracing slows it down)
        life.export_zip(admin, "jane")
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"transactions {a.transactions:>8}  export {took * 1000:8.0f} ms  "
              f"peak {peak / 2**20:7.1f} MiB  zip {len(data) / 2**10:8.0f} KiB")
        engine.dispose()


if __name__ == "__main__":
    main()
