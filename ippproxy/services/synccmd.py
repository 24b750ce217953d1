"""``ippproxy cmd sync-users [--preview] [--delete-missing] [--json]``: the user source
sync at the machine (SavaPage Appendix C, PaperCut ``perform-user-and-group-sync``).

The directory and the database come from the configuration (``--config FILE``: its
``[ldap]`` and ``[storage]``). ``--preview`` prints what a sync would add, change and
delete and writes nothing; without it the sync is applied, audited under the operator's
name, and users gone from the directory are deleted only with ``--delete-missing``. A
directory that is down or slow: the reason on stderr, exit status 2, nothing changed.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from ippproxy.accounting.identity import os_user
from ippproxy.accounting.sync_plan import SyncPlan
from ippproxy.accounting.users import UserDefaults
from ippproxy.catalog import Catalog
from ippproxy.config import Config
from ippproxy.db import make_engine, upgrade
from ippproxy.directory.settings import from_config
from ippproxy.directory.sync import DirectorySync
from ippproxy.pipeline.settings import accounting_settings
from ippproxy.services.actor import Actor, Via
from ippproxy.services.auditsink import CatalogAudit
from ippproxy.services.errors import ServiceError
from ippproxy.services.user_sync import UserSync

PROG = "ippproxy cmd sync-users"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=PROG, description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("sync-users", help=argparse.SUPPRESS)
    p.add_argument("--preview", action="store_true", help="show the changes, write nothing")
    p.add_argument("--delete-missing", action="store_true",
                   help="also delete the users gone from the directory (bulk delete)")
    p.add_argument("--json", action="store_true", help="print JSON")
    return p


def plan_dict(plan: SyncPlan) -> dict[str, Any]:
    return {"adds": [u.name for u in plan.adds],
            "changes": [{"name": c.name, "fields": {f.value: {"old": o, "new": n}
                                                    for f, (o, n) in c.fields.items()},
                         "join": sorted(c.join), "leave": sorted(c.leave)}
                        for c in plan.changes],
            "deletes": list(plan.deletes), "new_groups": list(plan.new_groups),
            "warnings": list(plan.warnings), "counts": plan.summary()}


def _text(out: dict[str, Any]) -> str:
    lines = [f"{k}: {v}" for k, v in out["counts"].items()]
    lines += [f"add {n}" for n in out["adds"]]
    lines += [f"change {c['name']}: {', '.join(c['fields']) or 'groups'}"
              for c in out["changes"]]
    lines += [f"delete {n}" for n in out["deletes"]]
    lines += [f"warning: {w}" for w in out["warnings"]]
    if "applied" in out:
        lines.append(f"applied: {'yes' if out['applied'] else 'nothing to change'}; "
                     f"deleted {out['deleted']}")
    return "\n".join(lines)


def main(argv: Sequence[str], config: Config) -> int:
    try:
        a = _parser().parse_args(list(argv))
    except SystemExit as e:
        return int(e.code or 0)
    settings = from_config(config.ldap)
    if settings is None:
        print(f"{PROG}: no directory: set [ldap] url in the configuration (--config FILE)",
              file=sys.stderr)
        return 2
    if not config.accounting.enabled:
        print(f"{PROG}: accounting is off ([accounting] enabled = false): no users to sync",
              file=sys.stderr)
        return 2
    s = accounting_settings(config)
    defaults = UserDefaults(s.currency, s.new_user_balance, s.new_user_restricted,
                            s.new_user_credit_limit)
    engine = make_engine(config.storage.database)
    try:
        upgrade(engine)
        svc = UserSync(DirectorySync(engine, settings, defaults), CatalogAudit(Catalog(engine)))
        actor = Actor.system(f"cmd:{os_user()}", Via.COMMAND)
        if a.preview:
            out = plan_dict(svc.preview(actor))
        else:
            done = svc.apply(actor, delete_missing=a.delete_missing)
            out = {**plan_dict(done.plan), "applied": done.applied, "deleted": done.deleted}
    except ServiceError as e:
        print(f"{PROG}: {e.detail}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    print(json.dumps(out, indent=2) if a.json else _text(out))
    return 0
