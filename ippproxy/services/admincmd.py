"""``ippproxy cmd set-password admin``: set the master account's password at the machine.

The password is read from standard input (one line) when it is not a terminal, otherwise
prompted for twice without echo; never from the command line, where ``ps`` would show it.
The database comes from ``--config FILE`` (its ``[storage] database``) or ``--database
URL``. Every session of the master account ends: a changed password logs it out everywhere.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Sequence

from ippproxy.accounting.identity import os_user
from ippproxy.config import ConfigError, load
from ippproxy.db import make_engine, upgrade
from ippproxy.services.actor import Actor, Via
from ippproxy.services.admins import MASTER_NAME, Admins, Principal
from ippproxy.services.auditsink import LogAudit
from ippproxy.services.errors import ServiceError
from ippproxy.services.sessions import Sessions


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ippproxy cmd set-password", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("name", help=f"the account: {MASTER_NAME!r}")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--config", help="the server's TOML configuration file")
    where.add_argument("--database", help="SQLAlchemy URL of the database")
    return p


def _read_password() -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("New password: ")
    if getpass.getpass("Again: ") != first:
        raise ValueError("the two passwords differ")
    return first


def main(argv: Sequence[str]) -> int:
    try:
        a = _parser().parse_args(list(argv))
    except SystemExit as e:
        return int(e.code or 0)
    if a.name != MASTER_NAME:
        print(f"ippproxy cmd set-password: only {MASTER_NAME!r} here; a user's password is "
              "set with 'ippproxy cmd set-user-property NAME password'", file=sys.stderr)
        return 2
    try:
        url = a.database or load(a.config).storage.database
        password = _read_password()
    except (ConfigError, OSError, ValueError) as e:
        print(f"ippproxy cmd set-password: {e}", file=sys.stderr)
        return 2
    engine = make_engine(url)
    try:
        upgrade(engine)
        Admins(engine, LogAudit(), users=False).set_master_password(
            Actor.system(f"cmd:{os_user()}", Via.COMMAND), password)
        ended = Sessions(engine).end_all(Principal(MASTER_NAME, True))
    except ServiceError as e:
        print(f"ippproxy cmd set-password: {e.detail}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    print(f"password of {MASTER_NAME!r} set; {ended} session(s) ended")
    return 0
