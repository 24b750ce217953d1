"""The issue-18 pages at scale: a throwaway slapd holding N users (default 20,000, each
with a card number) in G groups, synced into a fresh user store on SQLite and/or
PostgreSQL, then

* the user source page's preview of a directory with N users to add (the read and the
  plan, ``UserSync.preview``, and one page of 25 cut from it, ``preview_page``), and
* the web cashier's lookup (``Cashier.find``) by exact id, by a part of the full name, by
  card number, and for a text nobody matches: p50 and p95 of R rounds each,
* a deposit (one ledger row, ``Cashier.deposit``): p50 and p95.

    .venv/bin/python benchmarks/bench_directory_pages.py [--users 20000] [--groups 500]
        [--rounds 50] [--backend sqlite|postgresql|both]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_ldap import add_groups, ldif
from support.postgres import start_cluster
from support.slapd import GROUPS, ROOT_DN, ROOT_PW, SUFFIX, start_slapd

from ippproxy.accounting import roles_store, users
from ippproxy.accounting.roles import Role, RoleState
from ippproxy.accounting.txn import in_transaction
from ippproxy.db import make_engine, upgrade
from ippproxy.directory import LdapSettings
from ippproxy.directory.settings import UserAttributes
from ippproxy.directory.sync import DirectorySync
from ippproxy.services.actor import Actor, Via
from ippproxy.services.auditsink import LogAudit
from ippproxy.services.cashier import Cashier, new_token
from ippproxy.services.user_sync import UserSync
from ippproxy.web.directory_api import preview_page


def timed(rounds: int, work: Callable[[], object]) -> str:
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        work()
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
    return f"p50 {statistics.median(times):.1f} ms, p95 {p95:.1f} ms"


def run(url: str, settings: LdapSettings, label: str, n: int, rounds: int) -> None:
    engine = make_engine(url)
    upgrade(engine)
    svc = UserSync(DirectorySync(engine, settings, users.UserDefaults("EUR", 0, True, 0)),
                   LogAudit())
    admin = Actor.system("bench", Via.SESSION)
    t = time.perf_counter()
    plan = svc.preview(admin)
    first_page = preview_page(plan, 0, 25)
    last_page = preview_page(plan, max(0, (len(plan.adds) - 1) // 25) * 25, 25)
    print(f"{label}: preview of {len(plan.adds)} adds and one page "
          f"({len(first_page['adds'])} + {len(last_page['adds'])} rows) "
          f"{time.perf_counter() - t:.1f} s")
    svc.apply(admin)

    def cashier_role(conn: object) -> None:
        uid = users.get_user(conn, "user000000")._mapping["id"]  # type: ignore[arg-type]
        roles_store.set_user_role(conn, uid, Role.WEB_CASHIER,  # type: ignore[arg-type]
                                  RoleState.ENABLED)
    in_transaction(engine, cashier_role)
    cashier = Cashier(engine, LogAudit())
    who = Actor("user000000", Via.SESSION)
    mid = n // 2
    for what, text in (("exact id", f"user{mid:06d}"), ("part of the name", f"User {mid}"),
                       ("card number", f"{mid:08X}"), ("no match", "zz-nobody")):
        found = cashier.find(who, text)
        print(f"{label}: cashier find by {what} ({len(found)} found): "
              f"{timed(rounds, lambda t=text: cashier.find(who, t))}")
    print(f"{label}: cashier deposit: "
          f"{timed(rounds, lambda: cashier.deposit(who, f'user{mid:06d}', '1.50', '', new_token()))}")
    engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=20_000)
    ap.add_argument("--groups", type=int, default=500)
    ap.add_argument("--rounds", type=int, default=50)
    ap.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "bulk.ldif").write_text(ldif(args.users))
        slapd = start_slapd(root / "slapd", root / "bulk.ldif")
        try:
            add_groups(slapd, args.users, args.groups)
            settings = LdapSettings(url=slapd.url, base_dn=SUFFIX, bind_dn=ROOT_DN,
                                    bind_password=ROOT_PW, group_base_dn=GROUPS, timeout=60,
                                    attributes=UserAttributes(card_number="carLicense"))
            if args.backend in ("sqlite", "both"):
                run(f"sqlite:///{root / 'db.sqlite'}", settings, "sqlite", args.users,
                    args.rounds)
            if args.backend in ("postgresql", "both"):
                cluster = start_cluster()
                try:
                    run(cluster.create_database("bench"), settings, "postgresql",
                        args.users, args.rounds)
                finally:
                    cluster.stop()
        finally:
            slapd.stop()


if __name__ == "__main__":
    main()
