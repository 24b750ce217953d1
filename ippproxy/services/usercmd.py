"""``ippproxy cmd reset-pagometers``: every user's pagometer starts again now (SavaPage
§4.4.1 "Reset Pagometers", Appendix C), through the user list's service as the operator
at the server (``Actor.system(via=COMMAND)``), audited in the catalog's audit log like the
web page's button (``user.reset-pagometers``). The user list itself is ``ippproxy cmd
list-users`` (``accounting.cmdusers``).

    ippproxy cmd [--config FILE] [--json] reset-pagometers
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from ippproxy.accounting.identity import os_user
from ippproxy.catalog import Catalog
from ippproxy.config import Config
from ippproxy.db import make_engine, upgrade
from ippproxy.jobs.store import JobStore

from .actor import Actor, Via
from .auditsink import CatalogAudit
from .errors import ServiceError
from .user_list import UserList


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ippproxy cmd", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("reset-pagometers", help="every user's pagometer starts again now")
    return p


async def _reset(config: Config) -> str:
    engine = make_engine(config.storage.database)
    try:
        await asyncio.to_thread(upgrade, engine)
        actor = Actor.system(name=f"cmd:{os_user()}", via=Via.COMMAND)
        async with JobStore(engine) as store:
            listing = UserList(engine, CatalogAudit(Catalog(engine)), store.reports)
            return (await listing.reset_pagometers(actor)).isoformat()
    finally:
        engine.dispose()


def main(argv: list[str], config: Config) -> int:
    try:
        a = _parser().parse_args(argv)
    except SystemExit as e:
        return int(e.code or 0)
    try:
        when = asyncio.run(_reset(config))
    except ServiceError as e:
        print(f"ippproxy cmd: {type(e).__name__.lower()}: {e.detail}", file=sys.stderr)
        return 2
    print(json.dumps({"reset_at": when}) if a.json else f"pagometers reset at {when}")
    return 0
