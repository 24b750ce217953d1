"""Each user's pagometer from the job store: what the admin's user list shows beside each
user (SavaPage §4.4.1), for a page of users at a time.

A user's figures count the jobs that ended since the user's own start (the later of the
last pagometer reset and the user's creation, which the accounting package knows): pages
printed in monochrome and in colour, pages of jobs that never printed (canceled or aborted:
cancelled by someone, expired holds, refused by the printer), how many jobs printed and
their bytes; and the bytes of the user's documents held now, whenever they came.

A job's pages are what the printer reported (``impressions_completed``, RFC 8011 §5.3.18),
else our count at intake (``impressions``, PWG 5100.7); its colour pages our count
(``impressions_col``, PWG 5100.7 job-impressions-col), never more than its pages. One
aggregate query per page of users reads ``ix_jobs_owner_completed`` (owner, completed_at)
for the ended jobs and the documents by their primary key: the cost follows the users on
the page, not the whole history.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, case, column, func, select, values

from ippproxy.jobs.models import documents_t, jobs_t, owner_is
from ippproxy.jobs.state import JobState

_J = jobs_t.c
_D = documents_t.c
_PAGES = func.coalesce(_J.impressions_completed, _J.impressions, 0)
_UNPRINTED = (int(JobState.CANCELED), int(JobState.ABORTED))


@dataclass(frozen=True)
class Usage:
    """One user's pagometer."""

    mono: int = 0          # pages printed without colour
    colour: int = 0        # pages printed with colour
    unprinted: int = 0     # pages of jobs that ended without printing
    jobs: int = 0          # jobs printed
    bytes: int = 0         # document bytes of the jobs printed
    held_bytes: int = 0    # document bytes of the user's held jobs now

    @property
    def pages(self) -> int:
        return self.mono + self.colour


def _colour() -> Any:
    col = func.coalesce(_J.impressions_col, 0)
    return case((col > _PAGES, _PAGES), else_=col)


def usage(conn: Connection, since: Mapping[str, dt.datetime]) -> dict[str, Usage]:
    """The pagometers of the users named in ``since`` (owner -> start of the period)."""
    if not since:
        return {}
    # The users and their starts as a VALUES CTE joined on (owner, completed_at >= since):
    # one range of ix_jobs_owner_completed per user, however many users (an OR per user
    # grows SQLite's expression tree past its limit at a few hundred).
    starts = values(column("owner", _J.owner.type), column("since", _J.completed_at.type),
                    name="starts").data(list(since.items())).cte("starts")
    done = _J.state == int(JobState.COMPLETED)
    size = (select(func.coalesce(func.sum(_D.size), 0)).where(_D.job_uuid == _J.uuid)
            .scalar_subquery())
    stmt = (select(_J.owner,
                   func.sum(case((done, _PAGES - _colour()), else_=0)),
                   func.sum(case((done, _colour()), else_=0)),
                   func.sum(case((_J.state.in_(_UNPRINTED), _PAGES), else_=0)),
                   func.sum(case((done, 1), else_=0)),
                   func.sum(case((done, size), else_=0)))
            .select_from(starts)
            .join(jobs_t, and_(_J.owner == starts.c.owner,
                               _J.completed_at >= starts.c.since))
            .where(_J.completed_at.is_not(None))   # ix_jobs_owner_completed's condition
            .group_by(_J.owner))
    found = {o: [int(v or 0) for v in rest] for o, *rest in conn.execute(stmt)}
    held = (select(_J.owner, func.sum(_D.size)).join(documents_t, _D.job_uuid == _J.uuid)
            .where(owner_is(*since), _J.state == int(JobState.PENDING_HELD))
            .group_by(_J.owner))
    held_bytes = {o: int(n or 0) for o, n in conn.execute(held)}
    out = {}
    for owner in since:
        mono, colour, unprinted, jobs, nbytes = found.get(owner, [0, 0, 0, 0, 0])
        out[owner] = Usage(mono, colour, unprinted, jobs, nbytes, held_bytes.get(owner, 0))
    return out
