"""What the product stores for a password: argon2id at argon2-cffi's RFC 9106 low-memory
profile (64 MiB, 3 passes, 4 lanes), written by the real ``ippproxy cmd`` process.

The test processes hash at the lowest cost (tests/conftest.py), so this is read from a
subprocess, whose hasher is the product's own."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

from support.server import ippproxy_command


def test_a_password_is_stored_as_argon2id_at_the_products_cost(tmp_path: Path) -> None:
    database = tmp_path / "ippproxy.db"
    done = subprocess.run([*ippproxy_command(), "cmd", "--database", f"sqlite:///{database}",
                           "add-internal-user", "jane", "--password-file", "-"],
                          input="a long enough password\n", capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    with sqlite3.connect(database) as conn:
        [(stored,)] = conn.execute("SELECT password_hash FROM acct_users WHERE username = 'jane'")
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$"), stored
