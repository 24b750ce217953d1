"""A hostile destination printer's data never reaches our clients (issue 15 §4).

The printer is a real IPP server on a socket (testprinters/hostile.py); what is checked is
OUR Get-Printer-Attributes answer to a client, decoded by the project's codec.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import replace
from pathlib import Path

from ippproxy.config import QueueConfig
from ippproxy.forwarding.capabilities import FIRST_GRACE, PROBE_TIMEOUT
from ippproxy.ipp import Attribute, Group, Operation, RangeOfInteger, StringWithLanguage, Tag
from ippproxy.ipp.printer_registry import PRINTER_SYNTAXES
from testprinters.hostile import INVENTED, HostilePrinter

from .conftest import Started, make_config

_BAD_CHARS = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


async def _printer_group(start_proxy: Started, tmp_path: Path, uri: str) -> Group:
    cfg = make_config(tmp_path, queues=(QueueConfig("evil", destination=uri),))
    ipp = await start_proxy(cfg)
    # A printer slower than the first answer's grace (forwarding/capabilities.py) gets the
    # static attributes with offline-report while it is asked in the background (issue
    # 15): ask again until its own answer is in.
    deadline = asyncio.get_running_loop().time() + 30
    while True:
        m = await ipp.call(Operation.GET_PRINTER_ATTRIBUTES)
        assert m.code == 0, hex(m.code)
        group = m.group(Tag.PRINTER_ATTRIBUTES)
        assert group is not None
        reasons = group.get("printer-state-reasons")
        if reasons is None or "offline-report" not in reasons.plain:
            return group
        assert asyncio.get_running_loop().time() < deadline, "the printer was never read"
        await asyncio.sleep(0.2)


def _texts(a: Attribute) -> list[str]:
    out: list[str] = []
    for _, v in a.values:
        if isinstance(v, StringWithLanguage):
            out.append(v.text)
        elif isinstance(v, bytes) and a.name in PRINTER_SYNTAXES:   # not our own (firmware)
            out.append(v.decode("latin-1"))
        elif isinstance(v, str):
            out.append(v)
    return out


async def test_hostile_values_do_not_reach_clients(start_proxy: Started, tmp_path: Path) -> None:
    async with HostilePrinter() as printer:
        g = await _printer_group(start_proxy, tmp_path, printer.uri)
    assert Operation.GET_PRINTER_ATTRIBUTES in printer.requests     # it was asked
    for a in g.attributes:
        for text in _texts(a):
            assert not _BAD_CHARS.search(text), (a.name, text)
    # control characters: the keyword is dropped, names and text lose them
    assert g.get("printer-state-reasons").plain == ["media-low-warning"]  # type: ignore[union-attr]
    names = g.get("marker-names")
    assert names is not None and names.plain == ["Black*cupsFilter2: evil", "Cyan"]
    supply = g.get("printer-supply")
    assert supply is not None and supply.plain == [b"index=2;type=toner;level=40;"]
    # a bidi override is removed; an over-long text is cut to its registered maximum
    model = g.get("printer-make-and-model")
    assert model is not None and _texts(model) == ["Evil gnp.exe Printer"]
    message = g.get("printer-state-message")
    assert message is None or len(str(message.value).encode()) <= 1023
    # the wrong tag is dropped, the right value beside it kept
    media_types = g.get("media-type-supported")
    assert media_types is not None and media_types.values == ((int(Tag.KEYWORD), "stationery"),)
    # out-of-range and negative integers: dropped (our fallback answers), ranges clamped
    assert g.get("pages-per-minute").plain == [1]  # type: ignore[union-attr]
    assert g.get("copies-supported").plain == [RangeOfInteger(1, 2**31 - 1)]  # type: ignore[union-attr]
    assert g.get("copies-default").plain == [1]  # type: ignore[union-attr]
    assert g.get("orientation-requested-supported").plain == [3, 4]  # type: ignore[union-attr]
    assert g.get("marker-levels").plain == [-1]  # type: ignore[union-attr]
    # what we do not know is not passed on
    names_seen = set(g.names())
    assert not any(n.startswith("media-invented-") for n in names_seen)
    assert "x-evil" not in names_seen
    assert len(g.attributes) < INVENTED // 10
    # what was fine still comes through
    assert g.get("sides-supported").plain == ["one-sided", "two-sided-long-edge"]  # type: ignore[union-attr]


async def test_every_registered_syntax_is_well_formed() -> None:
    for name, syntax in PRINTER_SYNTAXES.items():
        assert syntax.name == name and syntax.tags and syntax.low <= syntax.high, name


async def test_a_slow_printer_does_not_make_clients_wait(start_proxy: Started,
                                                         tmp_path: Path) -> None:
    attrs = [Attribute.single("printer-state", Tag.ENUM, 3),
             Attribute.single("printer-make-and-model", Tag.TEXT, "Slow Printer"),
             Attribute.multi("sides-supported", Tag.KEYWORD, ["one-sided", "two-sided-long-edge"])]
    async with HostilePrinter(attrs) as printer:
        cfg = make_config(tmp_path, queues=(QueueConfig("slow", destination=printer.uri),))
        cfg = replace(cfg, forwarding=replace(cfg.forwarding, attributes_ttl=0.2))
        ipp = await start_proxy(cfg)
        first = await ipp.call(Operation.GET_PRINTER_ATTRIBUTES)
        assert first.group(Tag.PRINTER_ATTRIBUTES).get("printer-make-and-model").plain == [  # type: ignore[union-attr]
            "Slow Printer"]
        asked = printer.requests.count(Operation.GET_PRINTER_ATTRIBUTES)
        printer.byte_delay = 1.0              # from now on: one byte a second
        await asyncio.sleep(0.3)              # our cached answer is out of date
        for _ in range(5):
            started = time.monotonic()
            m = await ipp.call(Operation.GET_PRINTER_ATTRIBUTES)
            took = time.monotonic() - started
            assert took < PROBE_TIMEOUT / 3, took      # not waiting for the printer
            g = m.group(Tag.PRINTER_ATTRIBUTES)
            assert g is not None
            assert g.get("printer-make-and-model").plain == ["Slow Printer"]  # type: ignore[union-attr]
            assert "two-sided-long-edge" in g.get("sides-supported").plain  # type: ignore[union-attr]
            await asyncio.sleep(0.2)
        assert printer.requests.count(Operation.GET_PRINTER_ATTRIBUTES) > asked  # asked again


async def test_a_printer_that_never_answers_print_job(start_proxy: Started, tmp_path: Path,
                                                     pdf: bytes) -> None:
    attrs = [Attribute.single("printer-state", Tag.ENUM, 3),
             Attribute.multi("document-format-supported", Tag.MIME_MEDIA_TYPE,
                             ["application/pdf"]),
             Attribute.multi("operations-supported", Tag.ENUM,
                             [Operation.PRINT_JOB, Operation.GET_JOB_ATTRIBUTES,
                              Operation.GET_PRINTER_ATTRIBUTES])]
    silent = frozenset({Operation.PRINT_JOB, Operation.CREATE_JOB, Operation.SEND_DOCUMENT})
    async with HostilePrinter(attrs, silent=silent) as printer:
        cfg = make_config(tmp_path, queues=(QueueConfig("mute", destination=printer.uri),))
        cfg = replace(cfg, forwarding=replace(cfg.forwarding, send_timeout=1.0))
        ipp = await start_proxy(cfg)
        m = await ipp.call(Operation.PRINT_JOB, Attribute.single(
            "document-format", Tag.MIME_MEDIA_TYPE, "application/pdf"), data=pdf)
        job_id = m.get(Tag.JOB_ATTRIBUTES, "job-id").value  # type: ignore[union-attr]
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            m = await ipp.call(Operation.GET_JOB_ATTRIBUTES,
                               Attribute.single("job-id", Tag.INTEGER, job_id))
            g = m.group(Tag.JOB_ATTRIBUTES)
            assert g is not None
            state, message = g.get("job-state"), g.get("job-state-message")
            if printer.requests.count(Operation.PRINT_JOB) and state is not None \
                    and state.value in (3, 4):       # pending (to retry) or held, not processing
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the job stayed processing at a silent printer")
        assert message is not None and "printer" in str(message.value)


async def test_a_printer_that_never_answers_does_not_make_the_first_client_wait(
        start_proxy: Started, tmp_path: Path, pdf: bytes) -> None:
    silent = frozenset({Operation.GET_PRINTER_ATTRIBUTES})
    async with HostilePrinter([], silent=silent) as printer:
        cfg = make_config(tmp_path, queues=(QueueConfig("mute", destination=printer.uri),))
        ipp = await start_proxy(cfg)
        took = []
        for _ in range(3):
            started = time.monotonic()
            m = await ipp.call(Operation.GET_PRINTER_ATTRIBUTES)
            took.append(time.monotonic() - started)
            assert m.code == 0, hex(m.code)
            g = m.group(Tag.PRINTER_ATTRIBUTES)
            assert g is not None          # the static capabilities, the printer not reached
            assert g.get("media-supported") is not None
            assert "offline-report" in g.get("printer-state-reasons").plain  # type: ignore[union-attr]
        assert took[0] < FIRST_GRACE + 0.4 < PROBE_TIMEOUT, took
        assert max(took[1:]) < 0.3, took          # only the first requests wait at all
        started = time.monotonic()
        m = await ipp.call(Operation.PRINT_JOB, Attribute.single(
            "document-format", Tag.MIME_MEDIA_TYPE, "application/pdf"), data=pdf)
        assert m.code < 0x100, hex(m.code)
        assert time.monotonic() - started < 1.5
        assert Operation.GET_PRINTER_ATTRIBUTES in printer.requests   # asked in the background
