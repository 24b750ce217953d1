"""How a destination printer failed, classified for the forwarder.

* :class:`DestinationUnavailable`: try again later (connection refused or reset,
  timeout, HTTP 5xx, ``server-error-busy``, ``server-error-service-unavailable``,
  ``server-error-not-accepting-jobs``, ``server-error-temporary-error``, other
  ``server-error-*`` except the two below). ``maybe_delivered`` is True when the
  request may have reached the printer (the connection broke after the body was
  sent), so a retry must first look the job up (Get-Jobs by job-uuid).
* :class:`DestinationRejected`: the printer refused the job for good (any
  ``client-error-*``, ``server-error-operation-not-supported`` and
  ``-version-not-supported`` once fallbacks are exhausted, HTTP 4xx): abort the
  job with ``message``.

Text from a printer is untrusted (CVE-2024-47176, CVE-2026-55453): ``message``
is always passed through :func:`printer_text` (printable characters only,
length-capped) before it can reach a job-state-message, a log or a page.
"""

from __future__ import annotations

import unicodedata

MAX_MESSAGE = 255


def printer_text(text: str | bytes | None, limit: int = MAX_MESSAGE) -> str:
    """Untrusted printer text -> printable single-line text of at most ``limit`` characters."""
    if text is None:
        return ""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    out = []
    for ch in text:
        if ch in "\r\n\t":
            out.append(" ")
        elif unicodedata.category(ch)[0] != "C":  # Cc, Cf, Cs, Co, Cn: drop
            out.append(ch)
    clean = " ".join("".join(out).split())
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"


class DestinationError(Exception):
    """Base: ``status`` is the IPP status (or None), ``message`` sanitised text."""

    def __init__(self, message: str, status: int | None = None) -> None:
        self.message = printer_text(message)
        self.status = status
        super().__init__(self.message)


class DestinationUnavailable(DestinationError):
    """Retry later. ``maybe_delivered``: the printer may have the job already."""

    def __init__(self, message: str, status: int | None = None, *,
                 maybe_delivered: bool = False, remote_job_id: int | None = None) -> None:
        super().__init__(message, status)
        self.maybe_delivered = maybe_delivered
        self.remote_job_id = remote_job_id


class DestinationRejected(DestinationError):
    """Permanent refusal: abort the job with ``message``."""
