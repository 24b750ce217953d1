"""From the typed Config to the objects the pipeline runs: pricing, accounting settings,
the policy chain, and the groups written to the user store at start.

Amounts in the config are decimal strings in the major unit ("0.10"); here they become
exact minor units (``Fraction``: 3.5 cents is ``7/2``), never floats.
"""

from __future__ import annotations

import datetime as dt
import math
from fractions import Fraction
from typing import cast

from ippproxy.accounting import (
    AccountingSettings,
    CostModel,
    GroupDefaults,
    MediaPrice,
    Pricing,
    Trust,
)
from ippproxy.accounting.cost import parse_amount
from ippproxy.accounting.identity import canonical_name
from ippproxy.accounting.money import check_amount, parse_money
from ippproxy.config import Config, CostModelConfig, RuleConfig
from ippproxy.policies import (
    AllowedFormats,
    AllowedUsers,
    AskAccount,
    ChargeAccount,
    ConfirmJob,
    DuplicateJobs,
    ForceDuplex,
    ForceGrayscale,
    MaxCopies,
    MaxCost,
    MaxPages,
    MaxSpoolSize,
    PaperSizes,
    Policy,
    PolicyChain,
    RecentJobs,
    Scoped,
)


def minor(text: str, digits: int) -> Fraction:
    """``"0.035"`` with 2 digits -> ``Fraction(7, 2)`` minor units (at most MAX_AMOUNT)."""
    value = parse_amount(text) * Fraction(10) ** digits
    check_amount(math.ceil(value), digits, f"amount {text!r}")
    return value


def minor_int(text: str, digits: int, key: str = "amount") -> int:
    """A whole number of minor units (balances, credit limits): money.parse_money."""
    try:
        return parse_money(text, digits)
    except ValueError as e:
        raise ValueError(f"{key}: {e}") from None


def cost_model(m: CostModelConfig, digits: int) -> CostModel:
    return CostModel(
        default=MediaPrice(minor(m.mono, digits), minor(m.color, digits)),
        by_media={p.name: MediaPrice(minor(p.mono, digits), minor(p.color, digits))
                  for p in m.media},
        duplex_discount=parse_amount(m.duplex_discount),
        job_fee=minor(m.job_fee, digits))


def pricing(config: Config) -> Pricing:
    digits = config.accounting.minor_unit_digits
    models = {m.name: cost_model(m, digits) for m in config.cost_models}
    default = models.get(config.accounting.default_cost_model, CostModel())
    per_queue = {q.name: models[q.cost_model] if q.cost_model else default
                 for q in config.queues}
    return Pricing(models=per_queue, default=default,
                   multipliers={canonical_name(g.name): parse_amount(g.multiplier)
                                for g in config.groups})


def accounting_settings(config: Config) -> AccountingSettings:
    a = config.accounting
    d = a.minor_unit_digits
    group = next((g for g in config.groups
                  if a.new_user_group and canonical_name(g.name) == canonical_name(
                      a.new_user_group)), None)
    return AccountingSettings(
        currency=a.currency, exponent=d, trust=Trust(a.trust_printer_counts),
        create_unknown_users=a.unknown_users == "create",
        new_user_group=a.new_user_group,
        new_user_balance=minor_int(group.initial_balance if group else a.initial_balance, d),
        new_user_restricted=group.restricted if group else a.restricted,
        new_user_credit_limit=minor_int(group.credit_limit if group else a.credit_limit, d),
        node=config.storage.node)


def groups(config: Config) -> list[GroupDefaults]:
    """The configured groups with their new-user defaults (AccountingService.define_groups
    writes them at start)."""
    d = config.accounting.minor_unit_digits
    return [GroupDefaults(g.name, minor_int(g.initial_balance, d), g.restricted,
                          minor_int(g.credit_limit, d)) for g in config.groups]


def _names(values: tuple[str, ...]) -> frozenset[str]:
    return frozenset(canonical_name(v) for v in values)


def _policy(r: RuleConfig, config: Config, recent: RecentJobs) -> Policy:
    # cast: policies.Policy declares ``name`` as a settable attribute, the rules are frozen.
    return cast(Policy, _rule(r, config, recent))


def _rule(r: RuleConfig, config: Config, recent: RecentJobs) -> object:
    a = config.accounting
    unknown = r.unknown  # validated by config: allow / hold / deny
    if r.type == "max-pages":
        return MaxPages(r.limit, unknown)  # type: ignore[arg-type]
    if r.type == "max-copies":
        return MaxCopies(r.limit)
    if r.type == "max-cost":
        return MaxCost(minor_int(r.amount, a.minor_unit_digits), a.currency,
                       a.minor_unit_digits, unknown)  # type: ignore[arg-type]
    if r.type == "max-spool-size":
        return MaxSpoolSize(r.limit)
    if r.type == "paper-sizes":
        return PaperSizes(frozenset(r.values))
    if r.type == "allowed-formats":
        return AllowedFormats(frozenset(v.lower() for v in r.values))
    if r.type == "allowed-users":
        return AllowedUsers(_names(r.values), _names(r.allowed_groups))
    if r.type == "duplicate-jobs":
        return DuplicateJobs(recent, dt.timedelta(minutes=r.window_minutes))
    if r.type == "force-grayscale":
        return ForceGrayscale()
    if r.type == "force-duplex":
        return ForceDuplex(r.min_pages)
    if r.type == "ask-account":
        return AskAccount(r.allow_print_as_other)
    if r.type == "charge-account":
        return ChargeAccount(r.values[0])
    if r.type == "confirm-job":
        return ConfirmJob()
    raise ValueError(f"unknown rule type {r.type!r}")  # config validated it


def policy_chain(config: Config, recent: RecentJobs) -> PolicyChain:
    """The [[rule]] list in order, then the per-queue force_* shorthands."""
    scoped = [Scoped(_policy(r, config, recent), frozenset(r.printers), _names(r.groups),
                     _names(r.exempt_groups)) for r in config.rules]
    for q in config.queues:
        if q.force_grayscale:
            scoped.append(Scoped(cast(Policy, ForceGrayscale()), frozenset({q.name})))
        if q.force_duplex:
            scoped.append(Scoped(cast(Policy, ForceDuplex()), frozenset({q.name})))
    return PolicyChain(cast(list[Policy], scoped))
