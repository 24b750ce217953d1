"""The policy hook: ``Policy.decide(job) -> Decision`` and a chain of them.

Theory of operation
-------------------
A policy is a pure object: it looks at :class:`JobFacts` and answers a
:class:`Decision`; it does no I/O except through interfaces handed to it (the
duplicate-job lookup). :class:`Scoped` limits a policy to printers and groups
and exempts groups. :class:`PolicyChain` asks every policy in order and keeps
the most severe answer: the first denial stops the chain; a hold wins over
modifications; modifications (force grayscale, force duplex) accumulate, and
their reasons are joined with ``"; "``; the first rule that names an account to
charge (``Decision.account``) decides it. Costs in the facts are the estimate of
the job *as submitted*: a site that wants cost limits on the converted job
asks the chain again with the re-priced facts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Protocol

from ippproxy.policies.decision import Action, Decision
from ippproxy.policies.facts import JobFacts


class Policy(Protocol):
    name: str

    def decide(self, job: JobFacts) -> Decision: ...


@dataclass(frozen=True)
class Scoped:
    """Apply ``policy`` only on ``printers`` and to members of ``groups`` (empty: all),
    never to members of ``exempt_groups``."""

    policy: Policy
    printers: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()
    exempt_groups: frozenset[str] = frozenset()

    @property
    def name(self) -> str:
        return self.policy.name

    def applies(self, job: JobFacts) -> bool:
        if self.printers and job.printer not in self.printers:
            return False
        if self.groups and not (self.groups & job.groups):
            return False
        return not (self.exempt_groups & job.groups)

    def decide(self, job: JobFacts) -> Decision:
        return self.policy.decide(job) if self.applies(job) else Decision.allow()


class PolicyChain:
    name = "chain"

    def __init__(self, policies: Iterable[Policy] = ()) -> None:
        self.policies = tuple(policies)

    def decide(self, job: JobFacts) -> Decision:
        result = Decision.allow()
        reasons: list[str] = []
        grayscale = duplex = False
        account = ""
        for policy in self.policies:
            d = policy.decide(job)
            if d.action == Action.DENY:
                return d if d.policy else replace(d, policy=policy.name)
            account = account or d.account
            if d.action == Action.HOLD and result.action != Action.HOLD:
                result = d if d.policy else replace(d, policy=policy.name)
            elif d.action == Action.MODIFY:
                grayscale |= d.force_grayscale
                duplex |= d.force_duplex
                reasons.append(d.reason)
        if result.action == Action.HOLD:
            return replace(result, force_grayscale=grayscale, force_duplex=duplex,
                           account=account)
        if grayscale or duplex:
            return replace(Decision.modify("; ".join(r.rstrip(". ") for r in reasons if r),
                                           grayscale=grayscale, duplex=duplex,
                                           policy="chain"), account=account)
        return replace(result, account=account) if account else result
