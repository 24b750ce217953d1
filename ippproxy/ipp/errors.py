"""Errors raised by the codec (decoding) and by request validation."""

from __future__ import annotations

from .enums import Status


class DecodeError(ValueError):
    """A malformed or over-limit IPP message.

    ``offset`` is the byte offset in the message where the problem was found, ``status`` the IPP
    status a server answers with, ``reason`` the text without the offset (fit for a
    ``status-message``).
    """

    def __init__(
        self, reason: str, offset: int, status: int = Status.CLIENT_ERROR_BAD_REQUEST
    ) -> None:
        super().__init__(f"{reason} at offset 0x{offset:x}")
        self.reason = reason
        self.offset = offset
        self.status = int(status)


class EncodeError(ValueError):
    """A message that cannot be put on the wire (a value of the wrong type, a length overflow)."""


class RequestError(ValueError):
    """A well-formed message that breaks a request rule of RFC 8011 §4.1.x.

    ``status`` is the IPP status to answer with, ``message`` the ``status-message`` text.
    """

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = int(status)
        self.message = message
