"""The format planner (forwarding/formats.py) on real capability sets.

The sets are the virtual printer's (ippproxy.virtualprinter.attributes), and ippeveprinter's as
it answers Get-Printer-Attributes (fetched from a running one, and as literal values
copied from ``ipptool -tv ... get-printer-attributes.test`` for the pure tests).
"""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from ippproxy.forwarding.client import DestinationClient
from ippproxy.forwarding.formats import (
    ALL_SOURCES,
    FormatSupport,
    Plan,
    Step,
    plan,
    sources,
    wants_colour,
)
from ippproxy.ipp import Attribute, Group, Resolution, Tag
from ippproxy.virtualprinter.attributes import capabilities

PDF, PS, PWG, URF = "application/pdf", "application/postscript", "image/pwg-raster", "image/urf"
TEXT, JPEG, PCLM, OCTET = "text/plain", "image/jpeg", "application/PCLm", "application/octet-stream"

# ippeveprinter -f image/pwg-raster (cups-ipp-utils 2.4, Debian 12)
EVE_PWG = FormatSupport(formats=(OCTET, PWG),
                       pwg_resolutions=(Resolution(300, 300), Resolution(600, 600)),
                       pwg_types=("black_1", "sgray_8"))
# ippeveprinter -f image/urf
EVE_URF = FormatSupport(formats=(OCTET, URF),
                       urf=("CP1", "IS1-4-5-19", "MT1-2-3-4-5-6", "RS600", "V1.4", "W8", "DM1"))
# ippeveprinter's default list
EVE_DEFAULT = FormatSupport(formats=(OCTET, PDF, JPEG, PWG),
                           pwg_resolutions=(Resolution(300, 300), Resolution(600, 600)),
                           pwg_types=("black_1", "sgray_8"))


def virtual(formats: tuple[str, ...], color: bool = True) -> FormatSupport:
    attrs = capabilities(name="v", uuid="urn:uuid:0", uris=("ipp://x/ipp/print",),
                         color=color, duplex=True, formats=formats)
    return FormatSupport.from_printer(Group(Tag.PRINTER_ATTRIBUTES, attrs))


def steps(p: Plan) -> list[tuple[str, dict[str, int | bool]]]:
    return [(s.kind, s.kwargs) for s in p.steps]


def test_listed_format_goes_as_is() -> None:
    for caps in (EVE_DEFAULT, virtual((PDF, PS, PWG, URF, JPEG, OCTET))):
        p = plan(PDF, caps)
        assert p.possible and not p.converts and p.send_as == PDF
    assert plan(JPEG, EVE_DEFAULT).send_as == JPEG


def test_unknown_capabilities_send_as_is() -> None:
    p = plan(PS, FormatSupport())
    assert (p.send_as, p.steps) == (PS, ())


def test_pdf_to_pwg_raster_for_ippeveprinter() -> None:
    p = plan(PDF, EVE_PWG, colour=True)
    assert p.send_as == PWG
    # a colour job, but the printer takes sgray_8 (and black_1) only
    assert steps(p) == [("pwg-raster", {"colour": False, "dpi": 300})]
    assert "300 dpi, sgray_8" in p.note


def test_pwg_raster_in_colour_when_supported() -> None:
    caps = virtual((PWG, OCTET), color=True)
    assert steps(plan(PDF, caps)) == [("pwg-raster", {"colour": True, "dpi": 300})]
    mono = plan(PDF, caps, colour=wants_colour("monochrome"))
    assert steps(mono) == [("pwg-raster", {"colour": False, "dpi": 300})]


def test_pdf_to_urf_at_the_only_resolution() -> None:
    p = plan(PDF, EVE_URF)
    assert p.send_as == URF
    assert steps(p) == [("urf", {"colour": False, "dpi": 600})]


def test_preference_pdf_then_pwg_then_urf() -> None:
    everything = virtual((PDF, PWG, URF))
    assert plan(PS, everything).send_as == PDF
    assert steps(plan(PS, everything)) == [("ps-to-pdf", {})]
    assert plan(PS, virtual((PWG, URF))).send_as == PWG
    assert plan(TEXT, virtual((URF, PWG))).send_as == PWG


def test_postscript_routes() -> None:
    assert steps(plan(PS, virtual((PDF,)))) == [("ps-to-pdf", {})]
    assert steps(plan(PS, EVE_PWG)) == [("pwg-raster", {"colour": False, "dpi": 300})]
    assert steps(plan(PS, EVE_URF)) == [("urf", {"colour": False, "dpi": 600})]


def test_text_is_typeset_first() -> None:
    assert steps(plan(TEXT, virtual((PDF,)))) == [("text-to-pdf", {})]
    assert [k for k, _ in steps(plan(TEXT, EVE_PWG))] == ["text-to-pdf", "pwg-raster"]
    assert [k for k, _ in steps(plan(TEXT, EVE_URF))] == ["text-to-pdf", "urf"]
    assert plan(TEXT, EVE_URF).steps[0] == Step("text-to-pdf", PDF)


def test_pclm_is_sent_as_pdf_unchanged() -> None:
    p = plan(PCLM, virtual((PDF,)))
    assert (p.send_as, p.steps, p.possible) == (PDF, (), True)


def test_pwg_raster_rewrapped_as_urf() -> None:
    assert steps(plan(PWG, EVE_URF)) == [("pwg-to-urf", {})]


def test_no_route_is_impossible_with_a_reason() -> None:
    p = plan(JPEG, EVE_PWG)
    assert not p.possible and p.send_as is None
    assert "image/pwg-raster" in p.note and "image/jpeg" in p.note
    assert "application/octet-stream" not in p.note.split("accepts only")[1].split(" and ")[0]
    assert not plan("application/vnd.hp-pclxl", virtual((PDF,))).possible
    assert not plan(URF, EVE_PWG).possible   # no URF to PWG converter


def test_octet_stream_alone_takes_anything() -> None:
    p = plan(JPEG, FormatSupport(formats=(OCTET,)))
    assert (p.send_as, p.steps) == (OCTET, ())


def test_raster_parameters_that_do_not_fit() -> None:
    black_only = FormatSupport(formats=(PWG,), pwg_resolutions=(Resolution(600, 600),),
                              pwg_types=("black_1", "cmyk_8"))
    p = plan(PDF, black_only)
    assert not p.possible and "black_1, cmyk_8" in p.note
    odd = FormatSupport(formats=(PWG,), pwg_resolutions=(Resolution(600, 300),),
                       pwg_types=("sgray_8",))
    assert "square" in plan(PDF, odd).note
    no_w8 = FormatSupport(formats=(URF,), urf=("V1.4", "CP1", "RS300"))
    assert "W8" in plan(PDF, no_w8).note
    # a colour-only URF printer gets sRGB even for a monochrome job
    srgb = FormatSupport(formats=(URF,), urf=("SRGB24", "RS300-600"))
    assert steps(plan(PDF, srgb, colour=False)) == [("urf", {"colour": True, "dpi": 300})]


def test_resolution_nearest_300_dpi_and_dpcm() -> None:
    caps = FormatSupport(formats=(PWG,), pwg_types=("sgray_8",),
                        pwg_resolutions=(Resolution(600, 600), Resolution(200, 200),
                                         Resolution(400, 400)))
    assert steps(plan(PDF, caps))[0][1]["dpi"] == 400
    dpcm = FormatSupport(formats=(PWG,), pwg_types=("sgray_8",),
                        pwg_resolutions=(Resolution(118, 118, 4),))
    assert steps(plan(PDF, dpcm))[0][1]["dpi"] == 300
    assert steps(plan(PDF, FormatSupport(formats=(URF,), urf=("W8", "RS150-1200"))))[0][1][
        "dpi"] == 150


def test_missing_raster_attributes_take_the_baseline() -> None:
    assert steps(plan(PDF, FormatSupport(formats=(PWG,)))) == [
        ("pwg-raster", {"colour": True, "dpi": 300})]
    assert steps(plan(PDF, FormatSupport(formats=(URF,)), colour=False)) == [
        ("urf", {"colour": False, "dpi": 300})]


def test_format_names_are_normalised() -> None:
    caps = FormatSupport.from_printer(Group(Tag.PRINTER_ATTRIBUTES, (
        Attribute.multi("document-format-supported", Tag.MIME_MEDIA_TYPE,
                        ("Application/PDF",)),)))
    assert plan("application/pdf", caps).send_as == PDF
    assert plan("text/plain; charset=utf-8", caps).steps == (Step("text-to-pdf", PDF),)


def test_wants_colour() -> None:
    assert wants_colour(None) and wants_colour("color") and wants_colour("auto")
    assert not wants_colour("monochrome") and not wants_colour("process-monochrome")
    assert not wants_colour("bi-level")


@pytest.mark.parametrize("formats", [("image/pwg-raster",), ("image/urf",)],
                         ids=["pwg", "urf"])
async def test_plan_from_a_running_ippeveprinter(ippeveprinter_session: Any,
                                                 session: aiohttp.ClientSession,
                                                 formats: tuple[str, ...]) -> None:
    eve = ippeveprinter_session(formats=formats)
    group = await DestinationClient(eve.uri, session).get_printer_attributes()
    caps = FormatSupport.from_printer(group)
    assert caps == (EVE_PWG if formats == (PWG,) else EVE_URF)
    assert plan(PDF, caps).send_as == formats[0]


def test_sources_a_queue_can_accept() -> None:
    assert set(sources(EVE_PWG)) == {PDF, PCLM, PS, PWG, TEXT}
    assert set(sources(EVE_URF)) == {PDF, PCLM, PS, PWG, TEXT, URF}
    assert JPEG in sources(EVE_DEFAULT) and URF not in sources(EVE_DEFAULT)
    assert set(sources(FormatSupport(formats=(OCTET,)))) == set(ALL_SOURCES)
    attrs = capabilities(name="v", uuid="urn:uuid:0", uris=("ipp://x/ipp/print",),
                         color=False, duplex=False, formats=(PDF,))
    assert set(sources(FormatSupport.from_attributes(attrs))) == {PDF, PCLM, PS, TEXT}
