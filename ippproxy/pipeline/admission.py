"""How a job is stored once the policy chain has decided (the decide step's result)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ippproxy.filters import counts as pwg
from ippproxy.ipp import Attribute
from ippproxy.jobs.records import NewDocument
from ippproxy.policies.decision import HOLD_REASON


@dataclass(frozen=True)
class Admission:
    hold: bool = False                             # stored pending-held
    hold_reason: str = HOLD_REASON                 # its job-state-reasons keyword
    message: str = ""                              # job-state-message
    overrides: tuple[Attribute, ...] = ()          # forced job-template values
    removed: tuple[str, ...] = ()                  # attributes taken away (page overrides)
    documents: tuple[NewDocument, ...] = ()        # converted, replacing the received one
    document_format: str | None = None             # detected from the bytes
    counts: pwg.JobCounts | None = None            # as it will print
    estimate: int | None = None                    # its price (minor units)
    analysis: dict[str, Any] | None = None         # the job's analysis column
    account: str | None = None                     # charged when the job names none (a rule)
