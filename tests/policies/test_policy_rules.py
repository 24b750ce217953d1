"""Rules and the chain: pure objects, no server."""

from __future__ import annotations

import dataclasses
import datetime as dt

from ippproxy.policies import (
    Action,
    AllowedFormats,
    AllowedUsers,
    Decision,
    DuplicateJobs,
    ForceDuplex,
    ForceGrayscale,
    JobFacts,
    MaxCopies,
    MaxCost,
    MaxPages,
    MaxSpoolSize,
    MemoryRecentJobs,
    PaperSizes,
    PolicyChain,
    Scoped,
)

T0 = dt.datetime(2024, 5, 6, 8, 0, tzinfo=dt.UTC)
JOB = JobFacts(job_uuid="j1", user="alice", printer="colour", groups=frozenset({"students"}),
               document_format="application/pdf", sha256="ab" * 32, size=200_000, pages=4,
               impressions=8, copies=2, media=frozenset({"iso_a4_210x297mm"}), color=True,
               duplex=False, cost=150, submitted_at=T0)


def job(**changes: object) -> JobFacts:
    return dataclasses.replace(JOB, **changes)  # type: ignore[arg-type]


def test_limits() -> None:
    assert MaxPages(8).decide(JOB).action == Action.ALLOW
    d = MaxPages(5).decide(JOB)
    assert d.action == Action.DENY and d.reason == "The job has 8 pages; the limit on colour is 5."
    assert MaxPages(5).decide(job(impressions=None)).action == Action.ALLOW
    assert MaxPages(5, unknown="hold").decide(job(impressions=None)).action == Action.HOLD
    assert MaxCopies(1).decide(JOB).reason == "2 copies requested; at most 1 are allowed."
    assert MaxCost(100).decide(JOB).reason == (
        "The job costs 1.50 EUR; jobs over 1.00 EUR are not allowed.")
    assert MaxCost(100).decide(job(cost=100)).allowed
    assert MaxSpoolSize(100 * 1024).decide(JOB).action == Action.DENY
    assert PaperSizes(frozenset({"iso_a4_210x297mm"})).decide(JOB).allowed
    d = PaperSizes(frozenset({"iso_a4_210x297mm"})).decide(
        job(media=frozenset({"iso_a3_297x420mm", "iso_a4_210x297mm"})))
    assert d.reason == "Paper size iso_a3_297x420mm is not allowed on colour."


def test_formats_and_users() -> None:
    formats = AllowedFormats(frozenset({"application/pdf"}))
    assert formats.decide(job(document_format="application/PDF; x=y")).allowed
    assert formats.decide(job(document_format="application/postscript")).action == Action.DENY
    assert AllowedUsers(groups=frozenset({"students"})).decide(JOB).allowed
    assert AllowedUsers(users=frozenset({"alice"})).decide(JOB).allowed
    assert not AllowedUsers(users=frozenset({"bob"})).decide(JOB).allowed


def test_force_rules_and_exemptions() -> None:
    gray = Scoped(ForceGrayscale(), exempt_groups=frozenset({"staff"}))
    d = gray.decide(JOB)
    assert d.action == Action.MODIFY and d.force_grayscale and not d.force_duplex
    assert gray.decide(job(groups=frozenset({"students", "staff"}))).action == Action.ALLOW
    assert ForceGrayscale().decide(job(color=False)).action == Action.ALLOW
    assert ForceDuplex().decide(JOB).force_duplex
    assert ForceDuplex().decide(job(pages=1)).action == Action.ALLOW
    assert ForceDuplex().decide(job(duplex=True)).action == Action.ALLOW


def test_scoped_per_printer_and_group() -> None:
    rule = Scoped(MaxPages(1), printers=frozenset({"colour"}), groups=frozenset({"students"}))
    assert rule.decide(JOB).action == Action.DENY
    assert rule.decide(job(printer="mono")).allowed
    assert rule.decide(job(groups=frozenset({"staff"}))).allowed


def test_duplicates() -> None:
    recent = MemoryRecentJobs()
    rule = DuplicateJobs(recent, window=dt.timedelta(minutes=10))
    assert rule.decide(JOB).allowed
    recent.add("alice", JOB.sha256, T0 - dt.timedelta(minutes=3), "j0")
    recent.add("alice", JOB.sha256, T0, "j1")  # the job itself never counts
    d = rule.decide(JOB)
    assert d.action == Action.DENY and "last 10 minutes" in d.reason
    assert rule.decide(job(user="bob")).allowed
    assert rule.decide(job(submitted_at=T0 + dt.timedelta(minutes=20))).allowed
    assert rule.decide(job(sha256="")).allowed


def test_chain_severity_and_accumulation() -> None:
    chain = PolicyChain([ForceGrayscale(), ForceDuplex(), MaxCopies(5)])
    d = chain.decide(JOB)
    assert (d.action, d.force_grayscale, d.force_duplex) == (Action.MODIFY, True, True)
    assert d.reason == "Printed in grayscale on colour; Printed double-sided on colour"

    class HoldBig:
        name = "hold-big"

        def decide(self, j: JobFacts) -> Decision:
            return Decision.hold("Large job: waiting for approval.") if j.size > 1 else \
                Decision.allow()

    d = PolicyChain([ForceGrayscale(), HoldBig()]).decide(JOB)
    assert (d.action, d.force_grayscale, d.policy) == (Action.HOLD, True, "hold-big")
    d = PolicyChain([HoldBig(), MaxCopies(1), ForceGrayscale()]).decide(JOB)
    assert (d.action, d.policy) == (Action.DENY, "max-copies")
    assert PolicyChain().decide(JOB) == Decision.allow()


def test_chain_keeps_a_holds_reason_keyword() -> None:
    """A hold's job-state-reasons keyword (e.g. account-info-needed) survives the chain,
    with the modifications of the other rules and the deciding rule's name."""

    class NeedsAccount:
        name = "needs-account"

        def decide(self, j: JobFacts) -> Decision:
            return Decision.hold("Choose an account.", keyword="account-info-needed")

    d = PolicyChain([ForceDuplex(), NeedsAccount()]).decide(JOB)
    assert (d.action, d.hold_reason, d.force_duplex, d.policy, d.reason) == (
        Action.HOLD, "account-info-needed", True, "needs-account", "Choose an account.")
    assert Decision.hold("x").hold_reason == "job-hold-until-specified"
