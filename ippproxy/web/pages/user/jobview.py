"""A user's job as their pages show it: name, printer, pages, colour pages, cost, state,
and which answer it waits for (an account, the last-chance confirmation, or none)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ippproxy.jobs.records import JobRecord
from ippproxy.jobs.state import JobState
from ippproxy.policies.accounts import CONFIRMATION_NEEDED
from ippproxy.services.owncancel import CANCELABLE
from ippproxy.services.printas import offered
from ippproxy.services.usernotices import waits


@dataclass(frozen=True)
class JobView:
    uuid: str
    job_id: int
    name: str
    printer: str
    pages: int | None
    colour_pages: int | None
    cost: str              # charged (net), else the estimate at intake, else ""
    state: str             # the IPP keyword: "pending-held", "completed", ...
    reasons: tuple[str, ...]
    message: str
    created_at: dt.datetime
    held: bool
    asks_account: bool     # held for its payer: the user names an account
    asks_confirm: bool     # a confirm-job rule's last chance: print or cancel
    cancelable: bool
    deadline: dt.datetime | None   # when an unanswered account question is canceled
    policy: str            # what a rule did to it ("Printed double-sided on office.")
    releasable: bool = False  # held for its release (services/release.py): Release button
    as_other: bool = False    # its question offers "print as another user" (printas.py)


def view(job: JobRecord, cost: str, popup_timeout: float | None,
         releasable: bool = False) -> JobView:
    confirm = job.state == JobState.PENDING_HELD and CONFIRMATION_NEEDED in job.state_reasons
    account = waits(job) and not confirm
    deadline = None
    if account and popup_timeout is not None and "account-info-needed" in job.state_reasons:
        deadline = job.created_at + dt.timedelta(seconds=popup_timeout)
    return JobView(job.uuid, job.job_id, job.name or "(no name)", job.queue,
                   job.impressions, job.impressions_col, cost, job.state.keyword,
                   job.state_reasons, job.state_message or "", job.created_at,
                   job.state == JobState.PENDING_HELD, account, confirm,
                   job.state in CANCELABLE, deadline,
                   str((job.analysis or {}).get("policy") or ""),
                   releasable and not account and not confirm,
                   account and offered(job))
