"""How many job submissions are being received right now.

Print-Job, Create-Job and Send-Document hold a client that waits for our answer (``lp``
blocks, a driver shows "printing..."). While any is in flight the Forwarder spaces out
its sends (forwarding/order.py): acknowledging a burst of jobs comes before delivering
them, which a printer does at its own pace of seconds per page anyway. Only the
composition root hands this counter to the Forwarder; handlers bump it in dispatch.
"""

from __future__ import annotations


class Receiving:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> bool:
        """True while a submission is being received."""
        return self.count > 0
