"""What one queue announces over DNS-SD: its service instance, the ``_ipp._tcp`` and
``_ipps._tcp`` services with their sub-types, and the TXT record, made from the queue's
printer attributes (the same ones Get-Printer-Attributes answers). No I/O.

The TXT keys are those of the Bonjour Printing Specification 1.2.1 §9 (``txtvers``,
``qtotal``, ``rp``, ``ty``, ``note``, ``adminurl``, ``pdl``, ``product``, ``priority``,
``Color``, ``Duplex``), AirPrint's (``URF``, ``air``, ``kind``, ``TLS``, ``UUID``) as PWG 5100.14
§4.2.1 (IPP Everywhere) repeats them, and Mopria's (``mopria-certified``). Values:

* ``rp``: the resource path without its leading slash (Bonjour §9.2.5): ``printers/NAME``;
* ``ty``: ``printer-make-and-model``; ``product``: the same in parentheses (§9.2.6);
* ``pdl``: ``document-format-supported`` without ``application/octet-stream``;
* ``URF``: ``urf-supported`` joined by commas, ``none`` when the queue has none;
* ``Color`` / ``Duplex``: ``T`` or ``F`` from ``color-supported`` and ``sides-supported``;
* ``UUID``: ``printer-uuid`` without ``urn:uuid:``; ``kind``: ``printer-kind`` (else
  ``document``); ``note``: ``printer-location``; ``adminurl``: ``printer-more-info``;
* ``air``: ``none``, or ``username,password`` for a queue that wants HTTP Basic;
* ``TLS``: ``1.2`` (the one port speaks TLS 1.2 and later, server/tls.py);
* ``mopria-certified``: only when the printer attributes carry ``mopria-certified`` (the
  destination's certification passed through): we never claim one we were not given;
* ``priority``: 50 (Bonjour §9.2.9's middle value), ``qtotal``: 1, ``txtvers``: 1.

A TXT string is at most 255 bytes (RFC 6763 §6.1): ``pdl`` keeps the formats that fit, in
order; any other value is cut at a character boundary.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ippproxy.config import QueueConfig
from ippproxy.ipp import Attribute

IPP, IPPS = "_ipp._tcp", "_ipps._tcp"
SUBTYPES = ("_print", "_universal")       # Bonjour Printing §5, AirPrint's "_universal"
TXT_MAX = 255                             # RFC 6763 §6.1
_UUID_PREFIX = "urn:uuid:"


@dataclass(frozen=True)
class Service:
    """One DNS-SD service of a queue (RFC 6763 §4.1: ``name._ipp._tcp.local``)."""

    name: str
    type: str
    port: int
    txt: tuple[tuple[str, str], ...]
    subtypes: tuple[str, ...]             # "_print._sub._ipp._tcp", ...

    def txt_strings(self) -> list[bytes]:
        return [f"{k}={v}".encode() for k, v in self.txt]


@dataclass(frozen=True)
class Announcement:
    """Everything one queue announces (one avahi entry group)."""

    queue: str
    services: tuple[Service, ...]


def _values(attrs: dict[str, Attribute], name: str) -> list[object]:
    a = attrs.get(name)
    return [] if a is None else list(a.plain)


def _first(attrs: dict[str, Attribute], name: str, default: str = "") -> str:
    v = _values(attrs, name)
    return v[0] if v and isinstance(v[0], str) else default


def _fit(key: str, value: str) -> str:
    """``value`` cut so that ``key=value`` takes at most 255 bytes, whole characters."""
    room = TXT_MAX - len(key.encode()) - 1
    data = value.encode()
    return value if len(data) <= room else data[:room].decode(errors="ignore")


def _joined(key: str, items: Iterable[str]) -> str:
    """Whole items only, comma-joined, as many as fit the TXT string."""
    out: list[str] = []
    for item in items:
        if len(f"{key}={','.join([*out, item])}".encode()) > TXT_MAX:
            break
        out.append(item)
    return ",".join(out)


def txt_record(queue: QueueConfig, attrs: Sequence[Attribute]) -> tuple[tuple[str, str], ...]:
    by = {a.name: a for a in attrs}
    model = _first(by, "printer-make-and-model", "ippproxy")
    formats = [f for f in _values(by, "document-format-supported")
               if isinstance(f, str) and f != "application/octet-stream"]
    urf = [u for u in _values(by, "urf-supported") if isinstance(u, str)]
    sides = _values(by, "sides-supported")
    color = _values(by, "color-supported")
    uuid = _first(by, "printer-uuid")
    kinds = [k for k in _values(by, "printer-kind") if isinstance(k, str)]
    txt = [
        ("txtvers", "1"),
        ("qtotal", "1"),
        ("rp", f"printers/{queue.name}"),
        ("ty", _fit("ty", model)),
        ("product", _fit("product", f"({model})")),
        ("priority", "50"),
        ("note", _fit("note", _first(by, "printer-location", queue.location))),
        ("adminurl", _fit("adminurl", _first(by, "printer-more-info"))),
        ("pdl", _joined("pdl", formats)),
        ("URF", _joined("URF", urf) if urf else "none"),
        ("Color", "T" if color and color[0] is True else "F"),
        ("Duplex", "T" if any(isinstance(s, str) and s.startswith("two-sided")
                              for s in sides) else "F"),
        ("UUID", uuid.removeprefix(_UUID_PREFIX)),
        ("kind", _joined("kind", kinds) if kinds else "document"),
        ("air", "username,password" if queue.authentication == "basic" else "none"),
        ("TLS", "1.2"),
    ]
    mopria = _first(by, "mopria-certified")
    if mopria:
        txt.append(("mopria-certified", _fit("mopria-certified", mopria)))
    return tuple(txt)


def instance_name(queue: QueueConfig) -> str:
    """The service instance name (RFC 6763 §4.1.1: up to 63 bytes of UTF-8, meant for
    people): the queue's description, else its name."""
    return _fit_bytes(queue.info.strip() or queue.name, 63)


def _fit_bytes(value: str, limit: int) -> str:
    data = value.encode()
    return value if len(data) <= limit else data[:limit].decode(errors="ignore")


def announcement(queue: QueueConfig, attrs: Sequence[Attribute], port: int,
                 name: str | None = None) -> Announcement:
    """The queue's ``_ipp._tcp`` and ``_ipps._tcp`` services, both on the one port that
    speaks IPP and IPPS (server/listener.py)."""
    txt = txt_record(queue, attrs)
    name = name or instance_name(queue)
    return Announcement(queue.name, tuple(
        Service(name, kind, port, txt, tuple(f"{sub}._sub.{kind}" for sub in SUBTYPES))
        for kind in (IPP, IPPS)))
