"""ippproxy.policies: pure rules the server calls as hooks, ``decide(job) -> Decision``."""

from ippproxy.policies.accounts import AskAccount, ChargeAccount, ConfirmJob
from ippproxy.policies.base import Policy, PolicyChain, Scoped
from ippproxy.policies.decision import Action, Decision
from ippproxy.policies.facts import JobFacts
from ippproxy.policies.rules import (
    AllowedFormats,
    AllowedUsers,
    DuplicateJobs,
    ForceDuplex,
    ForceGrayscale,
    MaxCopies,
    MaxCost,
    MaxPages,
    MaxSpoolSize,
    MemoryRecentJobs,
    PaperSizes,
    RecentJobs,
)

__all__ = ["Action", "AllowedFormats", "AllowedUsers", "AskAccount", "ChargeAccount", "ConfirmJob",
           "Decision", "DuplicateJobs",
           "ForceDuplex", "ForceGrayscale", "JobFacts", "MaxCopies", "MaxCost", "MaxPages",
           "MaxSpoolSize", "MemoryRecentJobs", "PaperSizes", "Policy", "PolicyChain",
           "RecentJobs", "Scoped"]
