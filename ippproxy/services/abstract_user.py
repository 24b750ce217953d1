"""A user made abstract (a functional account, not a person) loses its held documents
(SavaPage manual, "Users", §4.4.4.1: "When a User becomes Abstract its SafePages are
removed"; issue 18): each of its jobs held on the server is canceled, which frees its
spooled documents. The admin who unticked Person acts here, whatever their printers right:
the removal is part of the edit they were allowed to make."""

from __future__ import annotations

from ippproxy.services.actor import Actor
from ippproxy.services.errors import Conflict, NotFound
from ippproxy.services.jobs import JobFilter, Jobs

BATCH = 200


async def remove_held_documents(jobs: Jobs, actor: Actor, username: str) -> int:
    """Cancel the user's pending-held jobs; how many were canceled."""
    as_edit = Actor.system(name=actor.name, via=actor.via)
    removed = 0
    while True:
        found, _total = await jobs.list(as_edit, JobFilter(user=username,
                                                           states=("pending-held",),
                                                           limit=BATCH))
        done = 0
        for job in found:
            try:
                await jobs.cancel(as_edit, job.uuid)
                done += 1
            except (Conflict, NotFound):  # released or gone meanwhile
                continue
        removed += done
        if len(found) < BATCH or done == 0:
            return removed
