"""An authenticator app for tests: TOTP codes that the server takes whenever it checks them.

The server accepts a code of the current 30-second step or one either side, and each step
only once (ippproxy.services.totp; RFC 6238 §5.2). A test that types the code of the step
before now (``at(time.time() - 30)``) loses when a step boundary passes before the server
checks it: a loaded CI machine did. So each code here is later than the last code given
(the server refuses a step it has seen) and no older than the current step, or the step
before only while more than ``MARGIN`` seconds of the current one are left (the server
checks well within that); two steps ahead would be out of the window, so then it waits
for the clock.
"""

from __future__ import annotations

import time

import pyotp

from ippproxy.services.totp import STEP

MARGIN = 15   # seconds: more than a test takes to have a code checked


class Authenticator:
    def __init__(self, secret: str) -> None:
        self.totp = pyotp.TOTP(secret, interval=STEP)
        self.last: int | None = None   # the step of the last code given

    def code(self) -> str:
        """The next code to type: a step > the last code's, within one of now."""
        t = time.time()
        now = int(t // STEP)
        oldest = now - 1 if (now + 1) * STEP - t > MARGIN else now
        step = oldest if self.last is None else max(oldest, self.last + 1)
        if step > now + 1:
            time.sleep((step - 1) * STEP - time.time() + 0.05)
        self.last = step
        return self.totp.at(step * STEP)

    def wrong(self) -> str:
        """A well-formed code that is none of the steps the server would take now."""
        now = int(time.time() // STEP)
        valid = {self.totp.at((now + d) * STEP) for d in (-2, -1, 0, 1, 2)}
        return next(c for c in ("000000", "111111", "222222", "333333") if c not in valid)
