"""Errors raised by document analysis and conversion.

Each carries ``status``: the IPP status keyword a server answers with
(RFC 8011 §13.1.5) and a human ``reason`` that is safe to show to the user as
``job-state-message`` or ``status-message`` (it never contains document text).
"""

from __future__ import annotations

# RFC 8011 §13.1.5.11 / §13.1.5.17 (status keywords; the server maps them to codes).
FORMAT_NOT_SUPPORTED = "client-error-document-format-not-supported"
FORMAT_ERROR = "client-error-document-format-error"
PASSWORD_ERROR = "client-error-document-password-error"  # PWG 5100.13 §8.4
INTERNAL_ERROR = "server-error-internal-error"
BUSY = "server-error-busy"


class AnalysisError(Exception):
    """Analysis or conversion of one document failed; the job is aborted with ``reason``."""

    status = INTERNAL_ERROR

    def __init__(self, reason: str, *, offset: int | None = None) -> None:
        super().__init__(reason if offset is None else f"{reason} (at byte {offset})")
        self.reason = str(self)
        self.offset = offset


class FormatError(AnalysisError):
    """The document is not what it claims to be, or is broken beyond counting."""

    status = FORMAT_ERROR


class UnsupportedFormat(AnalysisError):
    """We cannot count or forward this format."""

    status = FORMAT_NOT_SUPPORTED


class PasswordRequired(FormatError):
    """An encrypted PDF that does not open with an empty user password."""

    status = PASSWORD_ERROR


class LimitExceeded(AnalysisError):
    """A worker hit its CPU, memory or wall-clock limit (hostile or huge document)."""


class PoolFull(AnalysisError):
    """The bounded analysis queue is full; the client should retry later."""

    status = BUSY
