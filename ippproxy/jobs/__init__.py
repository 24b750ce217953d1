"""ippproxy.jobs: job model and state machine, spool, job store, crash recovery.

``state`` (the transition table), ``spool`` (documents on disk), ``store``
(``JobStore``: async facade with group commit; crash recovery is ``JobStore.recover``).
Modules with a leading underscore are the package's own: nothing outside ``ippproxy.jobs``
imports them (``SyncBatcher`` is exported here for a caller that shares one between spools,
``WriterStats`` for what ``JobStore.stats`` returns).
"""

from ippproxy.jobs._syncbatch import SyncBatcher
from ippproxy.jobs._writer import WriterStats
from ippproxy.jobs.records import (
    UNSET,
    DocumentHold,
    DocumentRecord,
    JobClosedError,
    JobNotFound,
    JobRecord,
    NewDocument,
    QueueStateRecord,
)
from ippproxy.jobs.spool import Spool, SpoolCompressionError, SpoolError, SpoolLimitExceeded
from ippproxy.jobs.state import InvalidTransition, JobEvent, JobState, next_state
from ippproxy.jobs.store import JobStore
from ippproxy.jobs.writes import Purged

__all__ = [
    "UNSET",
    "DocumentHold",
    "DocumentRecord",
    "InvalidTransition",
    "JobClosedError",
    "JobEvent",
    "JobNotFound",
    "JobRecord",
    "JobState",
    "JobStore",
    "NewDocument",
    "Purged",
    "QueueStateRecord",
    "Spool",
    "SpoolCompressionError",
    "SpoolError",
    "SpoolLimitExceeded",
    "SyncBatcher",
    "WriterStats",
    "next_state",
]
