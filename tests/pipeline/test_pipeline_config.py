"""The charging part of the config: parsing, the errors that name the bad key, and the
objects built from it (exact prices, the rule chain)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest
from conftest import BASE, config

from ippproxy.accounting import JobCounts
from ippproxy.config import ConfigError, from_dict
from ippproxy.pipeline import settings
from ippproxy.policies import JobFacts, MemoryRecentJobs


def test_pricing_is_exact_minor_units() -> None:
    cfg = config(cost_model=[{"name": "colour", "mono": "0.035", "color": "0.5",
                              "media": [{"name": "iso_a3_297x420mm", "mono": "0.07"}]}])
    p = settings.pricing(cfg)
    model = p.model_for("colour")
    assert model.default.mono == Fraction(7, 2)
    assert model.media_price("iso_a3_297x420mm").mono == Fraction(7)
    assert p.multipliers["staff"] == Fraction(1, 2)
    assert p.price("colour", (), JobCounts.simple(3)) == 11          # 10.5 rounds half up
    assert p.price("colour", ("staff",), JobCounts.simple(3)) == 5   # 5.25
    assert settings.accounting_settings(cfg).new_user_balance == 500


def test_rule_chain_scopes_groups_and_queue_shorthands() -> None:
    cfg = config(queue=[{"name": "colour", "cost_model": "colour", "force_duplex": True}])
    chain = settings.policy_chain(cfg, MemoryRecentJobs())
    student = JobFacts("u", "sam", "colour", frozenset({"students"}), pages=3, color=True)
    d = chain.decide(student)
    assert d.force_grayscale and d.force_duplex
    staff = chain.decide(JobFacts("u", "sue", "colour", frozenset({"staff"}), pages=3,
                                  color=True))
    assert not staff.force_grayscale and staff.force_duplex


@pytest.mark.parametrize(("change", "key"), [
    ({"accounting": {"currency": "euro"}}, "accounting.currency"),
    ({"accounting": {"unknown_users": "maybe"}}, "accounting.unknown_users"),
    ({"accounting": {"bogus": 1}}, "accounting.bogus"),
    ({"cost_model": [{"name": "c", "mono": "-1"}]}, "cost_model[0].mono"),
    ({"cost_model": [{"name": "c", "duplex_discount": "1.5"}]}, "cost_model[0].duplex_discount"),
    ({"cost_model": [{"name": "c", "media": [{"name": "a", "mono": "x"}]}]},
     "cost_model[0].media[0].mono"),
    ({"rule": [{"type": "max-everything"}]}, "rule[0].type"),
    ({"rule": [{"type": "max-cost"}]}, "rule[0].amount"),
    ({"rule": [{"type": "max-pages", "limit": 3, "printers": ["nope"]}]}, "rule[0].printers"),
    ({"group": [{"name": "g", "multiplier": "half"}]}, "group[0].multiplier"),
    ({"queue": [{"name": "q", "cost_model": "missing"}]}, "queue[0].cost_model"),
    ({"queue": [{"name": "q", "authentication": "kerberos"}]}, "queue[0].authentication"),
])
def test_bad_keys_are_named(change: dict[str, Any], key: str) -> None:
    raw = {**BASE, **change}
    if "cost_model" in change:
        raw["queue"] = [{"name": "q"}]
        raw["rule"] = []
    with pytest.raises(ConfigError) as e:
        from_dict(raw)
    assert e.value.key == key


@pytest.mark.parametrize("kind", ["basic", "token"])
def test_basic_needs_the_user_store(kind: str) -> None:
    with pytest.raises(ConfigError) as e:
        from_dict({"queue": [{"name": "q", "authentication": kind}]})
    assert e.value.key == "queue[0].authentication"


async def test_the_pool_drops_to_the_configured_analysis_user() -> None:
    """analysis.user reaches the workers (run as root, as the sandbox tests are)."""
    import os
    import pwd
    from pathlib import Path

    from ippproxy.pipeline.runtime import make_pool

    assert os.geteuid() == 0, "the privilege drop is checked as root"
    daemon = pwd.getpwnam("daemon")
    pool = make_pool(from_dict({"analysis": {"user": "daemon", "workers": 1}}))
    async with pool:
        assert pool.user is not None and pool.user.name == "daemon"
        await pool.ping()          # the worker has started and dropped
        for worker in pool._all:
            status = Path(f"/proc/{worker.proc.pid}/status").read_text()
            uids = next(ln for ln in status.splitlines() if ln.startswith("Uid:")).split()[1:]
            assert uids == [str(daemon.pw_uid)] * 4


@pytest.mark.parametrize("values", [[], ["a", "b"], [""], ["x" * 65]])
def test_charge_account_names_one_account(values: list[str]) -> None:
    with pytest.raises(ConfigError) as e:
        from_dict({"rule": [{"type": "charge-account", "values": values}]})
    assert e.value.key == "rule[0].values"
    assert from_dict({"rule": [{"type": "charge-account", "values": ["physics"]}]}).rules
