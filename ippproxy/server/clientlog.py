"""Log hygiene for what clients send: one escaped line per client mistake, rate-limited.

Theory of operation. Text from clients is untrusted, and some of it reaches log messages
(a request path, a user name). Every log record's message has its CR, LF and other C0/C1
control characters escaped (``\\r``, ``\\n``, ``\\x1b``), so a CR/LF in an encoded path
cannot forge a second log line (CWE-117); the record factory does it for every logger, ours
and the libraries'. A traceback that a record carries stays as it is: it is our text.

A malformed request (a bad request line, a raw backslash path, a body that does not decode)
is the client's mistake, not ours: aiohttp logs each with a full traceback ("Error handling
request"), which lets any client flood the log. A filter on aiohttp's server logger turns
such a record into one line with the client address and the error, without the traceback,
and lets at most ``BURST`` of them through per ``WINDOW`` (the rest are counted and the
count is logged with the next line let through).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable

from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestPayloadError

# Client mistakes aiohttp reports with a traceback (all of aiohttp's parser errors are
# HttpProcessingError subclasses: BadStatusLine, BadHttpMethod, LineTooLong, InvalidURLError,
# ContentEncodingError, TransferEncodingError).
CLIENT_ERRORS: tuple[type[BaseException], ...] = (HttpProcessingError, RequestPayloadError)
BURST = 20
WINDOW = 10.0
AIOHTTP_LOGGERS = ("aiohttp.server", "aiohttp.web")

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\n]")


def escape(text: str) -> str:
    """``text`` with control characters (CR and LF among them) written as escapes."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


class _Record(logging.LogRecord):
    def getMessage(self) -> str:
        return escape(super().getMessage())


class Limiter:
    """At most ``burst`` lines per ``window``; counts the ones held back."""

    def __init__(self, burst: int = BURST, window: float = WINDOW,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._burst, self._window, self._clock = burst, window, clock
        self._start = clock()
        self._passed = 0
        self.suppressed = 0

    def allow(self) -> str | None:
        """None: hold this line back; else a note to append (how many were held back)."""
        now = self._clock()
        if now - self._start >= self._window:
            self._start, self._passed = now, 0
        if self._passed >= self._burst:
            self.suppressed += 1
            return None
        self._passed += 1
        note = f" ({self.suppressed} more not logged)" if self.suppressed else ""
        self.suppressed = 0
        return note


MISTAKES = Limiter()


def mistake(logger: logging.Logger, msg: str, *args: object) -> None:
    """Log a client's mistake: one INFO line, within the shared rate limit."""
    note = MISTAKES.allow()
    if note is not None:
        logger.info(msg + "%s", *args, note)


class ClientErrorFilter(logging.Filter):
    """Turns aiohttp's tracebacks for malformed requests into one rate-limited line."""

    def __init__(self, limiter: Limiter = MISTAKES) -> None:
        super().__init__()
        self._limiter = limiter

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if not isinstance(exc, CLIENT_ERRORS):
            return True
        note = self._limiter.allow()
        if note is None:
            return False
        client = record.args[0] if isinstance(record.args, tuple) and record.args else "?"
        reason = getattr(exc, "message", "") or str(exc)
        record.msg = "malformed request from %s: %s: %s%s"
        record.args = (client, type(exc).__name__, " ".join(str(reason).split())[:200], note)
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        if record.levelno > logging.INFO:      # a client's mistake is not our error
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


def install() -> None:
    """Escape every log message and quiet aiohttp's malformed-request tracebacks (once)."""
    if logging.getLogRecordFactory() is logging.LogRecord:
        logging.setLogRecordFactory(_Record)
    for name in AIOHTTP_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, ClientErrorFilter) for f in logger.filters):
            logger.addFilter(ClientErrorFilter())
