"""The one exception an operation handler raises to answer with an IPP error status.

Handlers never build error responses themselves: they ``raise IppError(Status.X, "why")``
and the dispatcher turns it into a response with ``status-message`` (RFC 8011 §4.1.6.2)
and, when given, the unsupported-attributes group echoing the offending attributes with
their own tags (RFC 8011 §4.1.7).
"""

from __future__ import annotations

from ippproxy.ipp import Attribute


class IppError(Exception):
    """An IPP-level failure: ``status`` is the status-code, ``message`` the status-message."""

    def __init__(self, status: int, message: str,
                 unsupported: tuple[Attribute, ...] = ()) -> None:
        super().__init__(message)
        self.status = int(status)
        self.message = message
        self.unsupported = unsupported


class ClientGone(Exception):
    """The request body broke off (connection lost, bad chunked framing): nothing to answer
    at the IPP level; the HTTP layer closes the connection."""
