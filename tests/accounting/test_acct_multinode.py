"""Two OS processes, one database: no overspend, no lost update.

200 concurrent charge attempts (100 per process, 8 threads each) from one
restricted user whose balance pays for exactly 100: exactly 100 are accepted
and the balance ends at zero. Runs on PostgreSQL (row locks) and SQLite
(BEGIN IMMEDIATE on a shared file).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import Engine, func, select
from support.loadgen import PRICE

from ippproxy.accounting import ledger, users
from ippproxy.accounting.models import CHARGES

ROOT = Path(__file__).resolve().parents[2]


def test_two_nodes_exactly_100_of_200(engine: Engine, db_url: str, tmp_path: Path) -> None:
    with engine.begin() as conn:
        uid = users.add_user(conn, "student", defaults=users.UserDefaults("EUR", 100 * PRICE))
    go = tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, str(ROOT / "tests" / "support" / "loadgen.py"), db_url,
                               "STUDENT", "p1", "100", "8", str(go)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=env, cwd=ROOT)
             for _ in range(2)]
    go.touch()
    results = []
    for p in procs:
        out, err = p.communicate(timeout=240)
        assert p.returncode == 0, err
        results.append(json.loads(out))
    assert sum(r["accepted"] for r in results) == 100
    assert sum(r["refused"] for r in results) == 100
    with engine.begin() as conn:
        acct = users.personal_account(conn, uid)._mapping
        assert acct["balance"] == 0
        assert ledger.audit(conn) == []
        charged = conn.execute(select(func.count()).select_from(CHARGES)).scalar()
        assert charged == 100
        assert len(ledger.entries(conn, account_id=acct["id"])) == 101  # initial + 100
