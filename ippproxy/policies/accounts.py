"""Which account pays when a job names none (issue 17, account selection per group or
printer, scoped like every rule by :class:`~ippproxy.policies.base.Scoped`):

* ``ask-account``: the job waits for its owner to choose (held ``account-info-needed``,
  PWG 5100.7); the client popup or the web app answers;
* ``charge-account``: the job is charged to the named shared account without asking.

Without either, the owner's personal account pays. A job that names an account
(``job-account-id``) is charged to it whatever these rules say: IPP first.
"""

from __future__ import annotations

from dataclasses import dataclass

from ippproxy.policies.decision import Decision
from ippproxy.policies.facts import JobFacts

INFO_NEEDED = "account-info-needed"   # PWG 5100.7 job-state-reasons


@dataclass(frozen=True)
class AskAccount:
    name: str = "ask-account"

    def decide(self, job: JobFacts) -> Decision:
        if job.account is not None:
            return Decision.allow()
        return Decision.hold(f"Choose the account to charge for this job on {job.printer}.",
                             self.name, keyword=INFO_NEEDED)


@dataclass(frozen=True)
class ChargeAccount:
    code: str
    name: str = "charge-account"

    def decide(self, job: JobFacts) -> Decision:
        if job.account is not None:
            return Decision.allow()
        return Decision(account=self.code, policy=self.name)
