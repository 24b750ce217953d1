"""Who sits at the computer a job came from (issue 17 point 1): the user clients' event
streams by the network address they are connected from, and what such a client is shown of
a job it is asked about. No HTTP.

Theory of operation. On an ``authentication = "popup"`` queue a job sent without
credentials names its user only by a claim: Android sends the phone's model as
``requesting-user-name``, so that user's client would never be asked. PaperCut's
"unauthenticated printer" asks the user client running on the computer that sent the job,
whoever it is logged in as; so does ippproxy: the job keeps the address its request came
from (``jobs.peer_address``, the socket's peer; no option names trusted reverse proxies, so
``X-Forwarded-For`` is never believed), every client stream is filed under its own peer
address (``ByAddress``), and the identity question goes to the streams at the job's
address as well as to the claimed user's (services/usernotices.py). Delivery reads one
dictionary entry: the cost grows with the clients at that address, not with every client
connected.

A person at that computer learns what the job's owner would see of their own job: its
document name, pages, printer and time (``identity_question``), never a price, an account or
a message. Answering still takes a user name and password (services/userside.py, under the
login throttle), and the user proven owns the job.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Generic, TypeVar

from ippproxy.jobs.records import JobRecord

T = TypeVar("T")


class ByAddress(Generic[T]):
    """Items (client streams) filed under a network address; "" files nothing."""

    def __init__(self) -> None:
        self._at: dict[str, set[T]] = {}

    def add(self, address: str, item: T) -> None:
        if address:
            self._at.setdefault(address, set()).add(item)

    def discard(self, address: str, item: T) -> None:
        items = self._at.get(address)
        if items is None:
            return
        items.discard(item)
        if not items:
            del self._at[address]

    def at(self, address: str | None) -> tuple[T, ...]:
        return tuple(self._at.get(address, ())) if address else ()

    def __contains__(self, address: object) -> bool:
        return isinstance(address, str) and address in self._at

    def __bool__(self) -> bool:
        return bool(self._at)


def from_address(job: JobRecord, address: str) -> bool:
    """The job was sent from ``address`` (a job with no recorded address is from none)."""
    return bool(address) and job.peer_address == address


def identity_question(job: JobRecord, deadline: dt.datetime) -> dict[str, Any]:
    """The ``identity-needed`` popup: what its owner sees of the job, and until when."""
    attrs = (job.analysis or {}).get("attributes") or {}
    return {"uuid": job.uuid, "job_id": job.job_id, "printer": job.queue, "name": job.name,
            "pages": attrs.get("job-pages", job.impressions), "created_at": job.created_at,
            "state": job.state.keyword, "reasons": list(job.state_reasons),
            "deadline": deadline.isoformat()}
