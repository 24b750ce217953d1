"""The errors a service raises; each names what failed so the caller can say it.

The REST API maps them to RFC 9457 problem details (``Invalid`` -> 422 with the failing
field's path, ``NotFound`` -> 404, ``Conflict`` -> 409, ``Forbidden`` -> 403,
``Unavailable`` -> 503, ``Throttled`` -> 429 with Retry-After), the web
pages to a message beside the field, ``ippproxy cmd`` to a line on stderr and exit status 2.
"""

from __future__ import annotations


class ServiceError(Exception):
    """Base class: ``detail`` is a sentence fit to show to the admin."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class Invalid(ServiceError):
    """A value was refused; ``field`` is its path (``"rules[2].limit"``, ``"name"``)."""

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(f"{field}: {detail}")
        self.field = field
        self.reason = detail


class NotFound(ServiceError):
    def __init__(self, kind: str, name: str) -> None:
        super().__init__(f"no {kind} named {name!r}")
        self.kind = kind
        self.name = name


class Conflict(ServiceError):
    """The change clashes with what exists: a duplicate name, an object provisioned from
    the configuration file (read-only over the API), a stale version."""


class Forbidden(ServiceError):
    """The actor lacks the right for this section or object."""


class Unavailable(ServiceError):
    """A service the operation needs (the LDAP directory) cannot be reached now."""


class Throttled(ServiceError):
    """Too many wrong guesses of a secret (services/throttle.py): wait ``retry_after``
    seconds before the next try."""

    def __init__(self, detail: str, retry_after: float) -> None:
        super().__init__(detail)
        self.retry_after = retry_after
