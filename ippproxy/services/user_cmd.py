"""``ippproxy cmd`` for editing users (SavaPage Appendix C setUserProperties, deleteUser;
issue 18), through the same services as the admin pages and the REST API, audited as the
operator at the server (``cmd:<os user>``, ``Via.COMMAND``).

    ippproxy cmd [--config FILE] [--database URL] [--json] set-user-property NAME PROPERTY VALUE
        [--card-format hex|dec] [--card-order lsb|msb]     (VALUE "-": read from stdin)
    ippproxy cmd set-user-balance NAME AMOUNT --reason TEXT [--key KEY]
    ippproxy cmd new-user-token NAME
    ippproxy cmd delete-user NAME
    ippproxy cmd erase-user NAME
    ippproxy cmd export-user-data NAME --output FILE.zip
    ippproxy cmd sweep-deleted-users

PROPERTY is one of full-name, admin, person, disabled, email (primary first, separated by
space, comma, semicolon, CR or LF), card-number, id-number, pin, password ("" erases it),
credit-limit-source (none, group, individual), credit-limit (minor units), restricted,
role-ROLE (enabled, disabled, indeterminate; ROLE: print-job-creator, print-delegate,
print-delegator, release-approver, web-cashier).
AMOUNT is a decimal in the major unit. Exit status: 0 done, 1 refused (one line says why;
``{"error": ...}`` with ``--json``; nothing changed), 2 usage error.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from typing import Any

from sqlalchemy import Engine

from ippproxy.accounting.identity import os_user
from ippproxy.accounting.money import parse_money
from ippproxy.accounting.roles import Role
from ippproxy.catalog import Catalog
from ippproxy.config import Config
from ippproxy.db import make_engine, upgrade
from ippproxy.jobs.store import JobStore
from ippproxy.services.abstract_user import remove_held_documents
from ippproxy.services.actor import Actor, Via
from ippproxy.services.auditsink import AuditSink, CatalogAudit
from ippproxy.services.errors import ServiceError
from ippproxy.services.jobs import Jobs
from ippproxy.services.user_edit import PROPERTIES, UserChanges, UserEdit
from ippproxy.services.user_life import UserLife
from ippproxy.services.user_roles import UserRoles

WORDS = ("set-user-property", "set-user-balance", "new-user-token", "delete-user",
         "erase-user", "export-user-data", "sweep-deleted-users")
EXTRA = {"restricted": "credit-limit-source"}  # the older flag: true = individual
# A role's state per user: ``set-user-property NAME role-web-cashier enabled``.
ROLE_PROPERTIES = {f"role-{r.value}": r.value for r in Role}


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ippproxy cmd", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--database")
    p.add_argument("--json", action="store_true")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("set-user-property")
    s.add_argument("username")
    s.add_argument("property", choices=(*PROPERTIES, *EXTRA, *ROLE_PROPERTIES))
    s.add_argument("value")
    s.add_argument("--card-format", choices=("hex", "dec"), default="hex")
    s.add_argument("--card-order", choices=("lsb", "msb"), default="lsb")
    s = sub.add_parser("set-user-balance")
    s.add_argument("username")
    s.add_argument("amount")
    s.add_argument("--reason", required=True)
    s.add_argument("--key")
    for name in ("new-user-token", "delete-user", "erase-user"):
        sub.add_parser(name).add_argument("username")
    s = sub.add_parser("export-user-data")
    s.add_argument("username")
    s.add_argument("--output", required=True, help="the ZIP file to write ('-': stdout)")
    sub.add_parser("sweep-deleted-users")
    for a in (p, *sub.choices.values()):
        if a is not p:
            a.add_argument("--database", default=argparse.SUPPRESS)
            a.add_argument("--json", action="store_true", default=argparse.SUPPRESS)
    return p


def _value(raw: str) -> str:
    return sys.stdin.readline().rstrip("\r\n") if raw == "-" else raw


class _Unheard:
    """Nobody to tell of a job change: a running server reads the job from the database."""

    def job_changed(self, uuid: str) -> None:
        return None


async def _remove_held(engine: Engine, audit: AuditSink, actor: Actor, name: str) -> int:
    async with JobStore(engine) as store:
        return await remove_held_documents(Jobs(store, _Unheard(), audit, tuple), actor,
                                           name)


def _run(a: argparse.Namespace, engine: Engine, config: Config) -> Any:
    catalog = Catalog(engine)
    live = catalog.snapshot().apply(config)
    audit = CatalogAudit(catalog)
    actor = Actor.system(name=f"cmd:{os_user()}", via=Via.COMMAND)
    edit = UserEdit(engine, audit, lambda: live.users,
                    lambda: live.ldap.overwrite if live.ldap.url else ())
    life = UserLife(engine, audit, lambda: live.users, lambda: live.accounting.currency,
                    catalog)
    if a.command == "set-user-property":
        value = _value(a.value)
        if a.property in ROLE_PROPERTIES:
            roles = UserRoles(engine, audit)
            roles.set_user_role(actor, a.username, ROLE_PROPERTIES[a.property], value)
            return {"username": a.username.strip().lower(),
                    **{f"role-{k}": v["state"]
                       for k, v in roles.user_roles(actor, a.username).items()}}
        if a.property == "restricted":
            flag = value.lower()
            if flag not in ("true", "false"):
                raise ServiceError("restricted: true or false")
            return edit.update(actor, a.username, UserChanges(
                credit_source="individual" if flag == "true" else "none"))
        after = edit.set_property(actor, a.username, a.property, value,
                                  card_format=a.card_format, card_order=a.card_order)
        if a.property == "person" and not after["person"]:  # abstract: held jobs go
            after["held_jobs_removed"] = asyncio.run(
                _remove_held(engine, audit, actor, after["username"]))
        return after
    if a.command == "set-user-balance":
        try:
            amount = parse_money(a.amount, live.accounting.minor_unit_digits)
        except ValueError as e:
            raise ServiceError(f"amount: {e}") from None
        return edit.set_balance(actor, a.username, amount, a.reason, a.key)[0]
    if a.command == "new-user-token":
        return edit.new_token(actor, a.username)
    if a.command == "delete-user":
        return life.delete(actor, a.username)
    if a.command == "erase-user":
        return life.erase(actor, a.username)
    if a.command == "export-user-data":
        data = life.export_zip(actor, a.username)
        if a.output == "-":
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
            return None
        fd = os.open(a.output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        return {"username": a.username, "output": a.output, "bytes": len(data)}
    return {"deleted": life.sweep()}


def main(argv: list[str], config: Config) -> int:
    try:
        a = _parser().parse_args(argv)
    except SystemExit as e:
        return int(e.code or 0)
    engine = make_engine(a.database or config.storage.database)
    try:
        upgrade(engine)
        result = _run(a, engine, config)
    except (ServiceError, OSError) as e:
        msg = e.detail if isinstance(e, ServiceError) else str(e)
        if a.json:
            print(json.dumps({"error": msg}))
        else:
            print(f"ippproxy cmd: {msg}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    if result is not None:
        print(json.dumps(result, indent=2, default=str) if a.json else
              "\n".join(f"{k}: {v}" for k, v in result.items()))
    return 0
