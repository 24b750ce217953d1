"""``LookGap``: how long a poller of the store's recent changes waits between two looks.

The job log (joblog.py), the job feed (events.py) and the IPP subscriptions
(server/subscriptions.py) each read the changes since their cursor minus an ``overlap``,
because a change stamped before another may commit after it. Each look therefore reads
the last ``overlap`` of changes again: at one look per ``min_gap`` a change is read
``overlap / min_gap + 1`` times (six for the job log, eleven for the subscriptions; at
2,500 jobs/s the job log alone parsed about 15,000 keys a second on the server's threads,
README "Intake, ninth session"). After a look that read ``busy_keys`` changes or more the
next waits one ``overlap`` instead, so that a busy server reads each change at most twice;
a quiet one still looks again after ``min_gap``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

BUSY_KEYS = 200


@dataclass(frozen=True)
class LookGap:
    min_gap: float
    overlap: dt.timedelta
    busy_keys: int = BUSY_KEYS

    def after(self, keys_read: int) -> float:
        """Seconds to wait after a look that read ``keys_read`` changes."""
        if keys_read >= self.busy_keys:
            return max(self.min_gap, self.overlap.total_seconds())
        return self.min_gap
