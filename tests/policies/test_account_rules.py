"""Account selection rules (policies/accounts.py) and how the chain carries the account."""

from __future__ import annotations

from ippproxy.policies import (
    Action,
    AskAccount,
    ChargeAccount,
    ConfirmJob,
    ForceGrayscale,
    JobFacts,
    MaxCopies,
    PolicyChain,
    Scoped,
)


def facts(account: str | None = None, groups: tuple[str, ...] = ("staff",),
          copies: int = 1) -> JobFacts:
    return JobFacts(job_uuid="u", user="ann", printer="lab", groups=frozenset(groups),
                    account=account, color=True, copies=copies)


def test_ask_holds_a_job_that_names_no_account() -> None:
    d = AskAccount().decide(facts())
    assert (d.action, d.hold_reason, d.policy) == (Action.HOLD, "account-info-needed",
                                                   "ask-account")
    assert "lab" in d.reason
    assert AskAccount().decide(facts("physics")).action == Action.ALLOW   # IPP first


def test_charge_names_the_account_unless_the_job_does() -> None:
    d = ChargeAccount("physics").decide(facts())
    assert (d.action, d.account) == (Action.ALLOW, "physics")
    assert ChargeAccount("physics").decide(facts("maths")).account == ""


def test_the_chain_keeps_the_first_account_with_every_action() -> None:
    students = Scoped(ChargeAccount("teaching"), groups=frozenset({"students"}))
    chain = PolicyChain([students, ChargeAccount("physics"), ChargeAccount("maths")])
    assert chain.decide(facts()).account == "physics"
    assert chain.decide(facts(groups=("students",))).account == "teaching"
    assert chain.decide(facts("own")).account == ""
    modified = PolicyChain([ChargeAccount("physics"), ForceGrayscale()]).decide(facts())
    assert (modified.action, modified.force_grayscale, modified.account) == (
        Action.MODIFY, True, "physics")
    held = PolicyChain([ChargeAccount("physics"), AskAccount()]).decide(facts())
    assert (held.action, held.account) == (Action.HOLD, "physics")
    denied = PolicyChain([ChargeAccount("physics"), MaxCopies(1)]).decide(facts(copies=5))
    assert denied.action == Action.DENY


def test_confirm_holds_every_job_it_applies_to() -> None:
    d = ConfirmJob().decide(facts("physics"))
    assert (d.action, d.hold_reason) == (Action.HOLD, "ippproxy-confirmation-needed")
    scoped = Scoped(ConfirmJob(), printers=frozenset({"colour"}))
    assert scoped.decide(facts()).action == Action.ALLOW          # printer "lab"


def test_print_as_other_goes_with_the_ask_accounts_hold_through_the_chain() -> None:
    offers = Scoped(AskAccount(print_as_other=True), groups=frozenset({"staff"}))
    d = PolicyChain([ForceGrayscale(), offers]).decide(facts())
    assert (d.action, d.hold_reason, d.print_as_other) == (
        Action.HOLD, "account-info-needed", True)
    assert PolicyChain([AskAccount()]).decide(facts()).print_as_other is False
    assert PolicyChain([offers]).decide(facts(groups=("students",))).print_as_other is False
