"""Which account pays when a job names none (issue 17, account selection per group or
printer, scoped like every rule by :class:`~ippproxy.policies.base.Scoped`):

* ``ask-account``: the job waits for its owner to choose (held ``account-info-needed``,
  PWG 5100.7); the client popup or the web app answers;
* ``charge-account``: the job is charged to the named shared account without asking;
* ``confirm-job``: the "last chance" before printing: the job (priced and reserved) waits
  for its owner to print or cancel it (held ``ippproxy-confirmation-needed``, an
  implementation keyword, RFC 8011 §5.3.8); cancel refunds the reservation.

Without either, the owner's personal account pays. A job that names an account
(``job-account-id``) is charged to it whatever these rules say: IPP first.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ippproxy.policies.decision import Decision
from ippproxy.policies.facts import JobFacts

INFO_NEEDED = "account-info-needed"   # PWG 5100.7 job-state-reasons
CONFIRMATION_NEEDED = "ippproxy-confirmation-needed"


@dataclass(frozen=True)
class AskAccount:
    # The question also offers "print as another user" (PaperCut's account selection
    # popup: that user's name and password; charged to and logged as them).
    print_as_other: bool = False
    name: str = "ask-account"

    def decide(self, job: JobFacts) -> Decision:
        if job.account is not None:
            return Decision.allow()
        return replace(Decision.hold(
            f"Choose the account to charge for this job on {job.printer}.", self.name,
            keyword=INFO_NEEDED), print_as_other=self.print_as_other)


@dataclass(frozen=True)
class ChargeAccount:
    code: str
    name: str = "charge-account"

    def decide(self, job: JobFacts) -> Decision:
        if job.account is not None:
            return Decision.allow()
        return Decision(account=self.code, policy=self.name)


@dataclass(frozen=True)
class ConfirmJob:
    name: str = "confirm-job"

    def decide(self, job: JobFacts) -> Decision:
        return Decision.hold(f"Print this job on {job.printer}? Confirm or cancel it.",
                             self.name, keyword=CONFIRMATION_NEEDED)
