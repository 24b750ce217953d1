"""LDAP user source sync at scale (issue 18): a throwaway slapd holding N users (default
20,000) in G groups (default 500: groupOfNames, one in ten nested in another), synced into
a fresh user store on SQLite and/or PostgreSQL. Prints the time of the first sync (the
goal: under 60 s), of a second sync with nothing changed (it writes nothing:
tests/directory/test_dir_sync.py tests that), and of a preview.

Users are loaded with slapadd; the groups are added through the running server so that
the memberOf overlay sets memberOf on the users.

    .venv/bin/python benchmarks/bench_ldap.py [--users 20000] [--groups 500]
        [--backend sqlite|postgresql|both]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from support.postgres import start_cluster
from support.slapd import GROUPS, PEOPLE, ROOT_DN, ROOT_PW, SUFFIX, base_ldif, start_slapd

from ippproxy.accounting import users
from ippproxy.db import make_engine, upgrade
from ippproxy.directory import LdapSettings
from ippproxy.directory.sync import DirectorySync


def ldif(n: int) -> str:
    parts = [base_ldif()]
    for i in range(n):
        parts.append(f"dn: uid=user{i:06d},{PEOPLE}\nobjectClass: inetOrgPerson\n"
                     f"uid: user{i:06d}\ncn: User {i}\nsn: {i}\n"
                     f"mail: user{i:06d}@example.org\ncarLicense: {i:08X}\n\n")
    return "".join(parts)


def add_groups(slapd: object, n_users: int, n_groups: int) -> None:
    conn = slapd.admin()  # type: ignore[attr-defined]
    per = max(1, n_users // n_groups)
    for g in range(n_groups):
        members = [f"uid=user{i:06d},{PEOPLE}" for i in range(g * per, min(n_users, (g + 1) * per))]
        if g % 10 == 1:
            members.append(f"cn=group{g - 1:04d},{GROUPS}")   # nested
        conn.add(f"cn=group{g:04d},{GROUPS}", ["groupOfNames"],
                 {"cn": f"group{g:04d}", "member": members})
    conn.unbind()


def run(url: str, settings: LdapSettings, label: str) -> None:
    engine = make_engine(url)
    upgrade(engine)
    sync = DirectorySync(engine, settings, users.UserDefaults("EUR", 0, True, 0))
    t = time.perf_counter()
    first = sync.apply()
    t1 = time.perf_counter() - t
    t = time.perf_counter()
    second = sync.apply()
    t2 = time.perf_counter() - t
    t = time.perf_counter()
    sync.preview()
    t3 = time.perf_counter() - t
    print(f"{label}: first sync {t1:.1f} s ({len(first.plan.adds)} users, "
          f"{len(first.plan.new_groups)} groups); second sync {t2:.1f} s "
          f"(applied={second.applied}, changes={len(second.plan.changes)}); preview {t3:.1f} s")
    engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=20_000)
    ap.add_argument("--groups", type=int, default=500)
    ap.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "bulk.ldif").write_text(ldif(args.users))
        t = time.perf_counter()
        slapd = start_slapd(root / "slapd", root / "bulk.ldif")
        try:
            add_groups(slapd, args.users, args.groups)
            print(f"directory: {args.users} users, {args.groups} groups seeded in "
                  f"{time.perf_counter() - t:.1f} s")
            from ippproxy.directory.settings import UserAttributes
            settings = LdapSettings(url=slapd.url, base_dn=SUFFIX, bind_dn=ROOT_DN,
                                    bind_password=ROOT_PW, group_base_dn=GROUPS, timeout=30,
                                    attributes=UserAttributes(card_number="carLicense"))
            if args.backend in ("sqlite", "both"):
                run(f"sqlite:///{root / 'db.sqlite'}", settings, "sqlite")
            if args.backend in ("postgresql", "both"):
                cluster = start_cluster()
                try:
                    run(cluster.create_database("bench"), settings, "postgresql")
                finally:
                    cluster.stop()
        finally:
            slapd.stop()


if __name__ == "__main__":
    main()
