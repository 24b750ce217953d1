"""The client's errors: each carries the sentence the user is shown."""

from __future__ import annotations


class ClientFailure(Exception):
    """Something the user must fix (a login that failed, no credentials, a bad option)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Refused(Exception):
    """The server refused an answer (HTTP 4xx with an RFC 9457 problem): its detail."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail
