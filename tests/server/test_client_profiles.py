"""What each real driverless client reads from Get-Printer-Attributes, checked against ours.

Each profile lists the printer attributes a client family needs to add and drive a queue
without a vendor driver, with the values it insists on, from its public requirements:

* macOS / iOS (AirPrint): ``image/urf`` with ``urf-supported`` (the URF TXT key is copied
  from it; values as printers send them, ``V1.4``, ``W8``/``SRGB24``, ``RS...``), PDF, the
  printer's UUID, icons, more-info, supply levels (the Supplies sheet), accounting
  (``job-account-id-supported``: the print dialog's account field), strings for labels;
* Android (Mopria / the default print service): PDF, PWG raster or PCLm with the ``pclm-*``
  raster parameters, ``mopria-certified``, media, colour, resolutions;
* Windows' IPP class driver: the attributes of its three add-printer requests
  (uri-authentication/-security, document-format-default/-preferred/-supported,
  ipp-versions, media, media-type, mopria-certified, printer-dns-sd-name, printer-firmware-*,
  printer-device-id, ...), PWG raster or PCLm with their parameters;
* ChromeOS (CUPS's driverless PPD made from IPP attributes, PWG 5100.14): IPP/2.0,
  ``ipp-everywhere``, PWG raster with its resolutions and types, media-col-database,
  colour, quality and sides, and ``printer-strings-uri`` for the labels; and whichever
  raster format is listed comes with its parameters (CUPS 2.4 makes no driver for a
  printer that lists ``image/urf`` without ``urf-supported``, or PWG raster without its
  resolutions).

On the default queue (the built-in printer), on a queue forwarding to ippeveprinter and on
one whose printer cannot be reached (a driver made then has to work); the strings file the
queue points at is fetched and read.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest

from ippproxy.config import QueueConfig
from ippproxy.ipp import Attribute, Message, Resolution, Tag
from ippproxy.ipp import Operation as Op

from .client import Ipp, a, status
from .conftest import Started, free_port, make_config

EVE_FORMATS = ("application/pdf", "image/jpeg", "image/pwg-raster", "image/urf")
Check = Callable[[dict[str, Attribute]], str | None]


def has_value(name: str, *wanted: object) -> Check:
    def check(attrs: dict[str, Attribute]) -> str | None:
        found = attrs.get(name)
        missing = [w for w in wanted if found is None or w not in found.plain]
        return f"{name} lacks {missing}" if missing else None
    return check


def any_value(name: str, *choices: object) -> Check:
    def check(attrs: dict[str, Attribute]) -> str | None:
        found = attrs.get(name)
        if found is None or not set(found.plain) & set(choices):
            return f"{name} has none of {choices}"
        return None
    return check


def matches(name: str, pattern: str) -> Check:
    """Every value of ``name`` matches ``pattern``."""
    def check(attrs: dict[str, Attribute]) -> str | None:
        found = attrs.get(name)
        if found is None:
            return f"{name} missing"
        bad = [v for v in found.plain if not re.fullmatch(pattern, str(v))]
        return f"{name} values {bad} do not match {pattern}" if bad else None
    return check


def of_tag(name: str, *tags: int) -> Check:
    def check(attrs: dict[str, Attribute]) -> str | None:
        found = attrs.get(name)
        if found is None:
            return f"{name} missing"
        bad = [t for t, _ in found.values if t not in tags]
        return f"{name} has value tags {bad}" if bad else None
    return check


def same_count(first: str, second: str) -> Check:
    def check(attrs: dict[str, Attribute]) -> str | None:
        one, two = attrs.get(first), attrs.get(second)
        if one is None or two is None or len(one.values) != len(two.values):
            return f"{first} and {second} differ in count"
        return None
    return check


def present(name: str) -> Check:
    return lambda attrs: None if name in attrs else f"{name} missing"


def when_format(fmt: str, *checks: Check) -> Check:
    """``checks`` apply only when the queue takes ``fmt``."""
    def check(attrs: dict[str, Attribute]) -> str | None:
        formats = attrs["document-format-supported"].plain
        if fmt not in formats:
            return None
        return next((m for c in checks if (m := c(attrs)) is not None), None)
    return check


@dataclass(frozen=True)
class Profile:
    client: str
    present: tuple[str, ...]
    checks: tuple[Check, ...] = field(default=())


_PWG = ("pwg-raster-document-resolution-supported", "pwg-raster-document-sheet-back",
        "pwg-raster-document-type-supported")
_BASE_OPS = (Op.PRINT_JOB, Op.VALIDATE_JOB, Op.CREATE_JOB, Op.SEND_DOCUMENT, Op.CANCEL_JOB,
             Op.GET_JOB_ATTRIBUTES, Op.GET_JOBS, Op.GET_PRINTER_ATTRIBUTES)
_PCLM = ("pclm-compression-method-preferred", "pclm-raster-back-side",
         "pclm-source-resolution-default", "pclm-source-resolution-supported",
         "pclm-strip-height-preferred", "pclm-strip-height-supported")

PROFILES = (
    Profile("macOS/iOS (AirPrint)", (
        "urf-supported", "printer-uuid", "printer-icons", "printer-more-info",
        "printer-strings-uri", "printer-supply", "printer-supply-description",
        "printer-supply-info-uri", "marker-names", "marker-levels", "marker-types",
        "job-account-id-supported", "job-accounting-user-id-supported",
        "identify-actions-supported", "media-col-database", "media-col-ready",
        "sides-supported", "color-supported", "multiple-operation-time-out",
        "printer-location", "printer-make-and-model"), (
        has_value("document-format-supported", "image/urf", "application/pdf"),
        # URF values as printers send them: version, a colour space, resolutions.
        matches("urf-supported", r"[A-Z][A-Z0-9]*[0-9.-]*[0-9]"),
        any_value("urf-supported", "V1.4", "V1.3", "V1.2", "V1.1"),
        any_value("urf-supported", "W8", "SRGB24"),
        matches("urf-supported", r"(?!RS$).*"),
        has_value("job-account-id-supported", True),
        matches("printer-uuid", r"urn:uuid:[0-9a-f-]{36}"),
        same_count("printer-supply", "printer-supply-description"),
        of_tag("printer-supply", Tag.OCTET_STRING),
        has_value("operations-supported", *_BASE_OPS, Op.IDENTIFY_PRINTER, Op.CANCEL_MY_JOBS,
                  Op.CLOSE_JOB),
    )),
    Profile("Android (Mopria, default print service)", (
        "mopria-certified", "media-supported", "media-col-database", "media-size-supported",
        "print-color-mode-supported", "printer-resolution-supported", "copies-supported",
        "sides-supported", "printer-uuid", "printer-device-id", "printer-make-and-model",
        "job-creation-attributes-supported", "print-quality-supported"), (
        any_value("document-format-supported", "application/pdf", "image/pwg-raster",
                  "application/PCLm"),
        has_value("document-format-supported", "application/PCLm"),
        when_format("application/PCLm", *(present(n) for n in _PCLM)),
        when_format("application/PCLm", of_tag("pclm-strip-height-preferred", Tag.INTEGER),
                    of_tag("pclm-source-resolution-supported", Tag.RESOLUTION)),
        matches("mopria-certified", r"[0-9]+\.[0-9]+"),
        has_value("operations-supported", *_BASE_OPS),
    )),
    Profile("Windows IPP class driver", (
        "uri-authentication-supported", "uri-security-supported", "document-format-default",
        "document-format-preferred", "document-format-supported", "ipp-versions-supported",
        "media-supported", "media-type-supported", "mopria-certified", "printer-dns-sd-name",
        "printer-firmware-name", "printer-firmware-string-version",
        "printer-firmware-version", "printer-device-id", "printer-make-and-model",
        "printer-uuid", "printer-name", "pwg-raster-document-resolution-supported",
        "pwg-raster-document-type-supported", "pwg-raster-document-sheet-back"), (
        has_value("ipp-versions-supported", "2.0"),
        any_value("document-format-supported", "image/pwg-raster", "application/PCLm"),
        when_format("application/PCLm", *(present(n) for n in _PCLM)),
        matches("printer-device-id", r"([-A-Za-z ]+:[^;]*;)+"),
        same_count("printer-uri-supported", "uri-security-supported"),
        same_count("printer-uri-supported", "uri-authentication-supported"),
    )),
    Profile("ChromeOS (CUPS driverless)", (
        "printer-make-and-model", "media-col-database", "media-col-ready", "media-supported",
        "media-size-supported", "media-source-supported", "media-type-supported",
        "print-color-mode-supported", "print-quality-supported", "sides-supported",
        "printer-resolution-supported", "output-bin-supported", "finishings-supported",
        "printer-strings-uri", "pwg-raster-document-resolution-supported",
        "pwg-raster-document-type-supported", "printer-uri-supported"), (
        has_value("ipp-versions-supported", "2.0"),
        has_value("ipp-features-supported", "ipp-everywhere"),
        has_value("document-format-supported", "image/pwg-raster", "application/pdf"),
        matches("pwg-raster-document-type-supported",
                r"(black|sgray|srgb|adobe-rgb|cmyk)_(1|8|16)"),
        when_format("image/pwg-raster", *(present(n) for n in _PWG)),
        when_format("image/urf", present("urf-supported")),
    )),
)


async def _attributes(ipp: Ipp) -> dict[str, Attribute]:
    m: Message = await ipp.call(Op.GET_PRINTER_ATTRIBUTES, a(
        "requested-attributes", Tag.KEYWORD, "all", "media-col-database"))
    assert status(m) == "successful-ok"
    group = m.group(Tag.PRINTER_ATTRIBUTES)
    assert group is not None
    return {attr.name: attr for attr in group.attributes}


def _failures(attrs: dict[str, Attribute]) -> list[str]:
    out = []
    for p in PROFILES:
        out += [f"{p.client}: {n} missing" for n in p.present if n not in attrs]
        out += [f"{p.client}: {m}" for c in p.checks if (m := c(attrs)) is not None]
    return out


async def _strings(ipp: Ipp, attrs: dict[str, Attribute]) -> dict[str, str]:
    uri = str(attrs["printer-strings-uri"].value)
    assert uri.startswith("https://") and uri.endswith("/en.strings")
    url = ipp.tls_base + "/" + uri.split("/", 3)[3]
    async with aiohttp.ClientSession() as s, s.get(url, ssl=False) as r:
        assert r.status == 200, await r.text()
        assert r.content_type == "text/strings" and r.charset == "utf-8"
        text = await r.text()
    pairs = re.findall(r'^"([^"]+)" = "([^"]*)";$', text, re.MULTILINE)
    assert len(pairs) == len(text.strip().splitlines()), text       # every line a pair
    return dict(pairs)


async def test_default_queue_meets_every_client(start_proxy: Started) -> None:
    ipp = await start_proxy()
    attrs = await _attributes(ipp)
    assert _failures(attrs) == []
    labels = await _strings(ipp, attrs)
    assert labels["sides.one-sided"] and labels["print-quality.4"] == "Normal"
    assert labels["media.iso_a4_210x297mm"] == "A4"
    # only what the queue advertises: the built-in printer has no tabloid (ledger) size
    assert "media.na_ledger_11x17in" not in labels


async def test_queue_forwarding_to_ippeveprinter_meets_every_client(
        start_proxy: Started, ippeveprinter: object, tmp_path: Path) -> None:
    eve = ippeveprinter(formats=EVE_FORMATS)  # type: ignore[operator]
    ipp = await start_proxy(make_config(tmp_path, queues=(
        QueueConfig("eve", destination=eve.uri),)))
    attrs = await _attributes(ipp)
    assert _failures(attrs) == []
    # ippeveprinter's own URF values arrive as it sends them (upper case)
    urf = attrs["urf-supported"].plain
    assert "V1.4" in urf and any(str(v).startswith("RS") for v in urf)
    assert await _strings(ipp, attrs)


async def test_queue_whose_printer_cannot_be_reached_meets_every_client(
        start_proxy: Started, tmp_path: Path) -> None:
    """Added while its printer is off: the raster formats the queue lists still come with
    their parameters (the baseline the conversion assumes), so a client makes a working
    driver instead of none."""
    dead = f"ipp://127.0.0.1:{free_port()}/ipp/print"      # nothing listens there
    ipp = await start_proxy(make_config(tmp_path, queues=(QueueConfig("off", destination=dead),)))
    attrs = await _attributes(ipp)
    assert "offline-report" in attrs["printer-state-reasons"].plain
    assert {"image/pwg-raster", "image/urf"} <= set(attrs["document-format-supported"].plain)
    # Only the supply levels are missing: the printer alone can tell them.
    assert [f for f in _failures(attrs)
            if "printer-supply" not in f and "marker-" not in f] == []
    assert set(attrs["pwg-raster-document-type-supported"].plain) == {"sgray_8", "srgb_8"}
    assert attrs["pwg-raster-document-resolution-supported"].plain == [Resolution(300, 300)]
    assert {"W8", "SRGB24", "RS300"} <= set(attrs["urf-supported"].plain)


async def test_a_missing_attribute_fails_its_profile(start_proxy: Started) -> None:
    """The checks bite: without urf-supported AirPrint fails, without pclm-* Android and
    Windows do, and a URF value in lower case is not what printers send."""
    attrs = await _attributes(await start_proxy())
    without = {k: v for k, v in attrs.items() if k != "urf-supported"}
    assert any("AirPrint" in f and "urf-supported" in f for f in _failures(without))
    no_pclm = {k: v for k, v in attrs.items() if k != "pclm-strip-height-preferred"}
    assert {f.split(":")[0] for f in _failures(no_pclm)} >= {
        "Android (Mopria, default print service)", "Windows IPP class driver"}
    no_pwg = {k: v for k, v in attrs.items() if k != "pwg-raster-document-sheet-back"}
    assert any("ChromeOS" in f and "sheet-back" in f for f in _failures(no_pwg))
    lower = dict(attrs, **{"urf-supported": Attribute.multi("urf-supported", Tag.KEYWORD,
                                                            ["v1.4", "w8", "rs300"])})
    assert any("urf-supported" in f for f in _failures(lower))


@pytest.mark.parametrize("lang", ["de", "en/../../etc/passwd"])
async def test_strings_only_for_known_queues_and_languages(start_proxy: Started,
                                                           lang: str) -> None:
    ipp = await start_proxy()
    async with aiohttp.ClientSession() as s:
        for path in (f"/strings/default/{lang}.strings", "/strings/nosuch/en.strings"):
            async with s.get(ipp.tls_base + path, ssl=False) as r:
                assert r.status == 404


def _pclm(tmp_path: Path) -> bytes:
    """One A4 page as PCLm (Ghostscript's pclm device: what Android and Windows send)."""
    ps = tmp_path / "page.ps"
    ps.write_text("%!PS\n<< /PageSize [595 842] >> setpagedevice\n"
                  "0 0 1 setrgbcolor 72 72 200 200 rectfill showpage\n")
    out = tmp_path / "page.pclm"
    subprocess.run(["gs", "-q", "-dNOPAUSE", "-dBATCH", "-dSAFER", "-sDEVICE=pclm", "-r150",
                    f"-sOutputFile={out}", str(ps)], check=True, timeout=60)
    data = out.read_bytes()
    assert b"%PCLm 1.0" in data[:64]
    return data


async def _print_pclm(ipp: Ipp, data: bytes) -> int:
    """Print it and wait for the end; the impressions the printer reported."""
    m = await ipp.call(Op.PRINT_JOB, a("document-format", Tag.MIME_MEDIA_TYPE,
                                       "application/PCLm"), data=data)
    assert status(m) == "successful-ok", m
    job_id = m.get(Tag.JOB_ATTRIBUTES, "job-id")
    assert job_id is not None and isinstance(job_id.value, int)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60
    while True:
        m = await ipp.call(Op.GET_JOB_ATTRIBUTES, a("job-id", Tag.INTEGER, job_id.value),
                           a("requested-attributes", Tag.KEYWORD, "job-state",
                             "job-impressions-completed", "job-state-message"))
        state = m.get(Tag.JOB_ATTRIBUTES, "job-state")
        assert state is not None
        if state.value in (7, 8, 9) or loop.time() > deadline:
            break
        await asyncio.sleep(0.1)
    assert state.value == 9, m
    impressions = m.get(Tag.JOB_ATTRIBUTES, "job-impressions-completed")
    assert impressions is not None and isinstance(impressions.value, int)
    return impressions.value


async def test_pclm_prints_on_the_default_queue_and_through_ippeveprinter(
        start_proxy: Started, ippeveprinter: object, tmp_path: Path) -> None:
    """What the queue advertises for PCLm it takes: counted, forwarded (converted for a
    printer that does not list PCLm) and printed."""
    data = _pclm(tmp_path)
    assert await _print_pclm(await start_proxy(), data) == 1     # the built-in printer's count
    eve = ippeveprinter(formats=EVE_FORMATS)  # type: ignore[operator]
    ipp = await start_proxy(make_config(tmp_path / "eve", queues=(
        QueueConfig("eve", destination=eve.uri),)))
    await _print_pclm(ipp, data)
