"""Printer and job URIs: how we name queues and jobs, and how a request's target is parsed.

* a queue: ``ipp://HOST:PORT/printers/NAME`` and ``ipps://HOST:PORT/printers/NAME`` (one port
  serves both, ``listener.py``); the default queue (the first in the config)
  also answers at ``/ipp/print`` (the IPP Everywhere path, PWG 5100.14 §4.1);
* a job: ``ipp://HOST:PORT/jobs/NAME/ID`` (the IPP ``job-id`` is per queue, RFC 8011 §5.3.2);
* a user's personal printer URL: ``ipps://HOST:PORT/printers/NAME/u/SECRET``, the queue with
  a secret that proves its owner (``personal_secret``; services/printer_urls.py).

The CUPS tools, pointed at us directly, use cupsd's names (CUPS Implementation of IPP §2.1):
``ipp://HOST/`` (the server's root, or ``/printers/``) for "the server", which a printer
operation takes as the default queue and Get-Jobs and Cancel-Jobs as every queue
(``Target.root``), and ``ipp://HOST/jobs/ID`` for a job whose queue is not named
(``Target(None, ID)``: cupsd's job-ids are unique, ours per queue, so the dispatcher finds
the one queue that has such a job, ``server/cupsnames.py``).

``HOST:PORT`` is ``config.server.hostname`` when set, else the request's ``Host`` header
when it is a plausible host[:port], else the listen address. A URI we hand out in answer to
a request (job-uri, notify-printer-uri) has the scheme the request came in on (``Origin``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import unquote, urlsplit

DEFAULT_QUEUE_PATH = "/ipp/print"
PERSONAL = "u"   # /printers/NAME/u/SECRET
# job-id is integer(1:MAX), MAX = 2**31 - 1 (RFC 8011 §5.3.2, RFC 8010 §3.5.2); a path
# segment is a job id only when it is 1 to 10 ASCII digits in that range (``str.isdigit``
# also accepts "²", which ``int`` refuses, and ``int`` refuses 4,300 digits).
JOB_ID_MAX = 2**31 - 1
_JOB_ID = re.compile(r"^[0-9]{1,10}$")
_HOST = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]{1,253})(:[0-9]{1,5})?$")


@lru_cache(maxsize=256)  # per request, with a handful of distinct arguments
def authority(configured: str, host_header: str | None, listen: str, port: int) -> str:
    """The ``host:port`` written into URIs we hand out."""
    for candidate in (configured, host_header):
        if candidate:
            m = _HOST.match(candidate)
            if m:
                return candidate if m.group(2) else f"{candidate}:{port}"
    host = listen if listen not in ("0.0.0.0", "::", "") else "localhost"
    if ":" in host:
        host = f"[{host}]"
    return f"{host}:{port}"


@dataclass(frozen=True)
class Origin:
    """Where a request came in: the ``host:port`` for the URIs we write, and whether it
    came over TLS."""

    authority: str
    secure: bool = False
    peer: str = ""      # the socket peer's address ("": a Unix socket)

    @property
    def ipp(self) -> str:
        """``ipps`` over TLS, else ``ipp`` (RFC 7472 §4, RFC 8010 §4)."""
        return "ipps" if self.secure else "ipp"

    @property
    def web(self) -> str:
        """The origin of our web resources (icons, more-info pages): always HTTPS, since
        plain HTTP requests for them are redirected there."""
        return f"https://{self.authority}"


def printer_uri(origin: Origin, queue: str) -> str:
    return f"{origin.ipp}://{origin.authority}/printers/{queue}"


def printer_uris(authority: str, queue: str) -> tuple[str, str]:
    """``printer-uri-supported``: the queue over plain IPP and over IPPS, in the order of
    ``uri-security-supported`` ("none", "tls"), RFC 8011 §5.4.1-5.4.3."""
    return (printer_uri(Origin(authority), queue),
            printer_uri(Origin(authority, secure=True), queue))


def job_uri(origin: Origin, queue: str, job_id: int) -> str:
    return f"{origin.ipp}://{origin.authority}/jobs/{queue}/{job_id}"


@dataclass(frozen=True)
class Target:
    """The object a request addresses: a queue (or None: the server), maybe a job."""

    queue: str | None
    job_id: int | None = None
    # The server's root ("/" or "/printers/"): CUPS's printer-uri for "the server".
    root: bool = False


# Every request parses its HTTP path and its printer-uri, and a client sends the same
# few again and again. The results are immutable; the caches are bounded, since the
# strings come from clients.
@lru_cache(maxsize=256)
def parse_path(path: str, default_queue: str) -> Target | None:
    """Map a URI path to a target; None when it names nothing we serve."""
    path = unquote(path).rstrip("/") or "/"
    if path in ("/", "/printers"):
        return Target(None, root=True)
    if path in ("/admin", "/jobs", "/ipp"):
        return Target(None)
    if path == DEFAULT_QUEUE_PATH:
        return Target(default_queue)
    parts = path.strip("/").split("/")
    if parts[0] == "printers" and len(parts) == 2:
        return Target(parts[1])
    if parts[0] == "printers" and len(parts) == 4 and parts[2] == PERSONAL and parts[3]:
        return Target(parts[1])
    job_id = _job_id(parts[-1])
    if job_id is None:
        return None
    if parts[0] == "ipp" and len(parts) == 3 and parts[1] == "print":
        return Target(default_queue, job_id)
    if parts[0] == "jobs" and len(parts) == 3:
        return Target(parts[1], job_id)
    if parts[0] == "jobs" and len(parts) == 2:
        return Target(None, job_id)
    return None


def personal_secret(path: str) -> str | None:
    """The secret of a personal printer URL's path (``/printers/NAME/u/SECRET``), else None."""
    parts = unquote(path).strip("/").split("/")
    if len(parts) == 4 and parts[0] == "printers" and parts[2] == PERSONAL and parts[3]:
        return parts[3]
    return None


def _job_id(segment: str) -> int | None:
    if not _JOB_ID.match(segment):
        return None
    value = int(segment)
    return value if 1 <= value <= JOB_ID_MAX else None


@lru_cache(maxsize=256)
def parse_uri(uri: str, default_queue: str) -> Target | None:
    """Parse a printer-uri or job-uri value (scheme and authority are not checked)."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("ipp", "ipps", "http", "https"):
        return None
    return parse_path(parts.path or "/", default_queue)
