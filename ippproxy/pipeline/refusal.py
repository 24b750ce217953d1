"""Why a job is refused at intake, as an IPP status (RFC 8011 §13.1.5) and a message.

:class:`Refused` is the pipeline's one refusal: the IPP handlers answer it with its status,
its status-message and, when it names some, the attributes in the unsupported group.
"""

from __future__ import annotations

from ippproxy.filters import errors
from ippproxy.filters.errors import AnalysisError
from ippproxy.ipp import Attribute, Status
from ippproxy.policies import Decision

# Filter error status keywords (filters/errors.py) -> IPP status codes.
_ANALYSIS_STATUS: dict[str, int] = {
    errors.FORMAT_NOT_SUPPORTED: Status.CLIENT_ERROR_DOCUMENT_FORMAT_NOT_SUPPORTED,
    errors.FORMAT_ERROR: Status.CLIENT_ERROR_DOCUMENT_FORMAT_ERROR,
    errors.PASSWORD_ERROR: Status.CLIENT_ERROR_DOCUMENT_PASSWORD_ERROR,
    errors.BUSY: Status.SERVER_ERROR_BUSY,
}
# Denials by rule name; the others are client-error-not-possible.
_POLICY_STATUS: dict[str, int] = {
    "allowed-users": Status.CLIENT_ERROR_NOT_AUTHORIZED,
    "allowed-formats": Status.CLIENT_ERROR_DOCUMENT_FORMAT_NOT_SUPPORTED,
}


class Refused(Exception):
    def __init__(self, status: int, message: str,
                 unsupported: tuple[Attribute, ...] = ()) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.unsupported = unsupported


def analysis_refusal(e: AnalysisError, prefix: str = "") -> Refused:
    """A document that cannot be analysed or converted. A worker limit (a hostile or
    broken document: CPU, memory, wall clock) is the document's fault:
    client-error-document-format-error with the reason."""
    status = _ANALYSIS_STATUS.get(e.status)
    if status is None:
        status = (Status.CLIENT_ERROR_DOCUMENT_FORMAT_ERROR if isinstance(e, errors.LimitExceeded)
                  else Status.SERVER_ERROR_INTERNAL_ERROR)
    return Refused(status, prefix + e.reason)


def policy_refusal(d: Decision) -> Refused:
    return Refused(_POLICY_STATUS.get(d.policy, Status.CLIENT_ERROR_NOT_POSSIBLE),
                   d.reason or "the job was refused by a print rule")
