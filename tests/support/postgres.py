"""A throwaway PostgreSQL 15 cluster for tests: initdb + pg_ctl on a free port.

Use from a conftest::

    from support.postgres import db_url, pg_url, postgres_cluster  # noqa: F401

* ``postgres_cluster`` (session): starts one cluster per pytest process (per
  xdist worker) in a temporary directory, unix socket inside it, TCP on
  127.0.0.1 and a free port, ``fsync=off``; stops it at the end. As root, the
  server runs as the ``postgres`` system user (``runuser -u postgres --``).
  Missing binaries are a test *failure* with a clear message, never a skip.
* ``start_cluster(durable=True)``: the same cluster with ``fsync=on``,
  ``synchronous_commit=on`` and ``full_page_writes=on`` (PostgreSQL's defaults), for
  benchmarks whose figures must include the disk flush of every COMMIT; tests keep them
  off for speed (nothing in a test survives a power cut).
* ``pg_url``: a fresh database per test, as ``postgresql+psycopg://...``, dropped after.
* ``db_url``: parametrised ``["sqlite", "postgresql"]``: a fresh SQLite file or
  a fresh PostgreSQL database.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from testprinters.ports import free_port

PG_BIN = Path(os.environ.get("IPPPROXY_PG_BIN", "/usr/lib/postgresql/15/bin"))
SUPERUSER = "ippproxy"


@dataclass
class PostgresCluster:
    root: Path
    port: int
    run_as: list[str]
    _template: str | None = None

    def postmaster_pid(self) -> int:
        """The server's process id (the first line of ``postmaster.pid``, PostgreSQL's
        documented lock file), for benchmarks that count its CPU."""
        return int((self.root / "data" / "postmaster.pid").read_text().split("\n", 1)[0])

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def psql(self, sql: str, database: str = "postgres") -> None:
        subprocess.run([*self.run_as, str(PG_BIN / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1",
                        "-h", str(self.root / "sock"), "-p", str(self.port), "-U", SUPERUSER,
                        "-d", database, "-c", sql], check=True, capture_output=True)

    def create_database(self, name: str | None = None) -> str:
        name = name or f"t_{uuid.uuid4().hex[:16]}"
        self.psql(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def create_migrated_database(self) -> str:
        """A fresh database at the newest migration: a copy of a template migrated once
        per cluster (``CREATE DATABASE ... TEMPLATE``), for the tests that would run every
        migration on an empty database first. Migrations themselves are tested from empty
        (tests/db/test_migrations.py), and building the template runs them all too."""
        if self._template is None:
            from ippproxy.db import make_engine, upgrade

            url = self.create_database("migrated_template")
            engine = make_engine(url)
            try:
                upgrade(engine)
            finally:
                engine.dispose()        # a template takes no copies while connected
            self._template = "migrated_template"
        name = f"t_{uuid.uuid4().hex[:16]}"
        self.psql(f'CREATE DATABASE "{name}" TEMPLATE "{self._template}"')
        return self.url(name)

    def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        self.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        subprocess.run([*self.run_as, str(PG_BIN / "pg_ctl"), "-D", str(self.root / "data"),
                        "-m", "immediate", "-w", "stop"], check=False, capture_output=True)


def start_cluster(base: Path | None = None, *, durable: bool = False) -> PostgresCluster:
    """initdb + pg_ctl start; raises RuntimeError with the reason when it cannot.

    ``durable``: every COMMIT is flushed to disk (fsync, synchronous_commit and
    full_page_writes on), as in production; off (the default) for tests."""
    missing = [b for b in ("initdb", "pg_ctl", "psql") if not (PG_BIN / b).exists()]
    if missing:
        raise RuntimeError(f"PostgreSQL binaries missing in {PG_BIN}: {', '.join(missing)}; "
                           "install postgresql-15 (apt-get install postgresql-15) or set "
                           "IPPPROXY_PG_BIN")
    root = Path(tempfile.mkdtemp(prefix="ippproxy-pg-", dir=base))
    run_as: list[str] = []
    if os.geteuid() == 0:
        try:
            pw = pwd.getpwnam("postgres")
        except KeyError as e:
            raise RuntimeError("running as root needs the 'postgres' system user") from e
        os.chown(root, pw.pw_uid, pw.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    (root / "sock").mkdir()
    if run_as:
        shutil.chown(root / "sock", "postgres", "postgres")
    data = root / "data"
    init = subprocess.run([*run_as, str(PG_BIN / "initdb"), "-D", str(data), "-U", SUPERUSER,
                           "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C.UTF-8"],
                          check=False, capture_output=True, text=True)
    if init.returncode:
        raise RuntimeError(f"initdb failed: {init.stderr.strip() or init.stdout.strip()}")
    flush = "on" if durable else "off"
    cluster = None
    for _attempt in range(5):  # a free port can be taken between probe and bind
        port = free_port()
        opts = (f"-c port={port} -c listen_addresses=127.0.0.1 "
                f"-c unix_socket_directories={root / 'sock'} -c fsync={flush} "
                f"-c synchronous_commit={flush} -c full_page_writes={flush} "
                "-c max_connections=200")
        start = subprocess.run([*run_as, str(PG_BIN / "pg_ctl"), "-D", str(data), "-w",
                                "-t", "60", "-l", str(root / "log"), "-o", opts, "start"],
                               check=False, capture_output=True, text=True)
        if start.returncode == 0:
            cluster = PostgresCluster(root, port, run_as)
            break
    if cluster is None:
        log = (root / "log").read_text(errors="replace")[-2000:] if (root / "log").exists() else ""
        raise RuntimeError(f"pg_ctl start failed: {log}")
    return cluster


@pytest.fixture(scope="session")
def postgres_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresCluster]:
    try:
        cluster = start_cluster()
    except RuntimeError as e:
        pytest.fail(str(e), pytrace=False)
    try:
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(cluster.root, ignore_errors=True)


@pytest.fixture
def pg_url(postgres_cluster: PostgresCluster) -> Iterator[str]:
    """A fresh database, dropped (connections and all) after the test."""
    url = postgres_cluster.create_database()
    yield url
    postgres_cluster.drop_database(url)


_sqlite_template: list[Path] = []     # this process's, once made


def sqlite_template(factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once per test process, for db_url to copy."""
    if not _sqlite_template:
        from ippproxy.db import make_engine, upgrade

        path = factory.mktemp("template") / "migrated.db"
        engine = make_engine(f"sqlite:///{path}")
        try:
            upgrade(engine)
        finally:
            engine.dispose()        # the last connection closed: the log checkpointed into it
        _sqlite_template.append(path)
    return _sqlite_template[0]


def _database(request: pytest.FixtureRequest, tmp_path: Path, migrated: bool) -> Iterator[str]:
    """A fresh database on the engine of ``request.param``, dropped after the test."""
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        if migrated:
            shutil.copyfile(sqlite_template(request.getfixturevalue("tmp_path_factory")), path)
        yield f"sqlite:///{path}"
        return
    cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
    url = cluster.create_migrated_database() if migrated else cluster.create_database()
    yield url
    cluster.drop_database(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database at the newest migration, on each engine (a copy of a template:
    the tests that use it would otherwise run every migration first)."""
    yield from _database(request, tmp_path, migrated=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database with nothing in it, on each engine: for the tests of migrations."""
    yield from _database(request, tmp_path, migrated=False)
