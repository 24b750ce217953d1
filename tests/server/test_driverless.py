"""The attributes for driverless clients (server/driverless.py, strings.py), the URF values
a destination sends, the requested-attributes group of document-format-default, and the
PWG 5100.7 colour collections of a job."""

from __future__ import annotations

import dataclasses

import pytest

from ippproxy.ipp import Attribute, Collection, JobState, Tag
from ippproxy.server import driverless, job_attrs
from ippproxy.server.destination_caps import clean, from_destination
from ippproxy.server.ops.printer import select_printer_attributes
from ippproxy.server.printer_attrs import is_job_template
from ippproxy.server.strings import strings_file
from ippproxy.server.uris import Origin

from .test_job_attrs import _job


def _urf(*values: str) -> list[object]:
    found = clean(Attribute.multi("urf-supported", Tag.KEYWORD, list(values)))
    return [] if found is None else list(found.plain)


def test_urf_values_keep_their_case() -> None:
    sent = ("V1.4", "W8", "SRGB24", "RS300-600", "DM1", "IS1-4-5", "MT1-2-3", "CP1", "PQ3-4-5")
    assert _urf(*sent) == list(sent)


@pytest.mark.parametrize("bad", ["V1.4\x00", "<b>", "W8;rm", "", "-W8", "V" * 65, "SRGB 24",
                                 "\u0130S1"])
def test_urf_values_are_still_sanitised(bad: str) -> None:
    assert _urf("V1.4", bad) == ["V1.4"]
    assert _urf(bad) == []


def test_urf_value_length_limit_is_64() -> None:
    assert _urf("V" * 64) == ["V" * 64]
    assert _urf("V" * 65) == []


def test_other_keywords_stay_lower_case() -> None:
    sides = clean(Attribute.multi("sides-supported", Tag.KEYWORD, ["One-Sided", "one-sided"]))
    assert sides is not None and sides.plain == ["one-sided"]


def test_document_format_default_is_printer_description() -> None:
    # RFC 8011 §5.4.21; get-printer-attributes-suite.test's job-template request
    assert not is_job_template("document-format-default")
    assert is_job_template("sides-default") and is_job_template("media-col-database")
    attrs = [Attribute.single("document-format-default", Tag.MIME_MEDIA_TYPE, "application/pdf"),
             Attribute.single("sides-default", Tag.KEYWORD, "one-sided")]
    assert [a.name for a in select_printer_attributes(attrs, {"job-template"})] == \
        ["sides-default"]
    assert [a.name for a in select_printer_attributes(attrs, {"printer-description"})] == \
        ["document-format-default"]


def _supply(*rows: str) -> Attribute:
    return Attribute.multi("printer-supply", Tag.OCTET_STRING, [r.encode() for r in rows])


def test_markers_from_printer_supply() -> None:
    passed = from_destination((
        _supply("index=1;class=supplyThatIsConsumed;type=tonerCartridge;unit=percent;"
                "maxcapacity=100;level=42;colorantname=black;",
                "index=2;type=ink;maxcapacity=200;level=50;colorantname=cyan;",
                "index=3;type=wasteToner;level=-3;"),
        Attribute.multi("printer-supply-description", Tag.TEXT, ["Black", "Cyan\x1b[31m"]),
    ))
    found = {a.name: a.plain for a in driverless.markers(passed)}
    assert found == {"marker-names": ["Black", "Cyan[31m", "Supply 3"],
                     "marker-types": ["toner-cartridge", "ink", "waste-toner"],
                     "marker-colors": ["#000000", "#00FFFF", "none"],
                     "marker-levels": [42, 25, -3]}


def test_markers_of_the_destination_win() -> None:
    passed = from_destination((_supply("index=1;type=toner;level=5;"),
                               Attribute.single("marker-names", Tag.NAME, "Toner")))
    assert driverless.markers(passed) == []
    assert driverless.markers({}) == []


def test_alerts_follow_state_reasons_and_have_descriptions() -> None:
    found = {a.name: a for a in driverless.alerts({}, ["media-empty-error", "toner-low-warning",
                                                      "paused"])}
    assert found["printer-alert"].plain == [
        b"code=inputMediaSupplyEmpty;index=1;severity=critical;group=input;",
        b"code=markerTonerAlmostEmpty;index=2;severity=warning;group=marker;",
        b"code=other;index=3;severity=other;group=general;"]
    assert found["printer-alert-description"].plain == ["media-empty-error",
                                                        "toner-low-warning", "paused"]
    assert driverless.alerts({}, ["none"]) == []              # idle: nothing to report


def test_alerts_of_the_destination_win_when_consistent() -> None:
    theirs = (Attribute.single("printer-alert", Tag.OCTET_STRING, b"code=jam;"),
              Attribute.single("printer-alert-description", Tag.TEXT, "Jam in tray 2"))
    assert [a.plain for a in driverless.alerts(from_destination(theirs), ["none"])] == [
        [b"code=jam;"], ["Jam in tray 2"]]
    uneven = (theirs[0], Attribute.multi("printer-alert-description", Tag.TEXT, ["a", "b"]))
    assert [a.plain for a in driverless.alerts(from_destination(uneven), ["paused"])] == [
        [b"code=other;index=1;severity=other;group=general;"], ["paused"]]


def test_pclm_only_with_pclm() -> None:
    assert driverless.pclm({}, ["application/pdf"]) == []
    ours = {a.name: a.plain for a in driverless.pclm({}, ["application/PCLm"])}
    assert ours["pclm-strip-height-preferred"] == [16]
    assert "flate" in ours["pclm-compression-method-preferred"]
    theirs = {a.name: a for a in driverless.pclm({}, ["application/PCLm"])}
    theirs["pclm-strip-height-preferred"] = Attribute.single(
        "pclm-strip-height-preferred", Tag.INTEGER, 32)
    passed = from_destination(tuple(theirs.values()))
    found = {a.name: a.plain for a in driverless.pclm(passed, ["application/PCLm"])}
    assert found["pclm-strip-height-preferred"] == [32]


def test_document_format_preferred() -> None:
    def preferred(*formats: str) -> object:
        return {a.name: a.value for a in driverless.clients(list(formats))}.get(
            "document-format-preferred")
    assert preferred("image/urf", "application/pdf") == "application/pdf"
    assert preferred("image/urf", "image/pwg-raster") == "image/pwg-raster"
    assert preferred("image/jpeg") is None


def test_operator_message_is_cut_to_127_octets() -> None:
    assert driverless.operator_message("é" * 100).value == "é" * 63


def test_strings_file_lists_what_is_advertised() -> None:
    text = strings_file([Attribute.multi("sides-supported", Tag.KEYWORD, ["one-sided"]),
                         Attribute.multi("print-quality-supported", Tag.ENUM, [3, 4])])
    lines = set(text.splitlines())
    assert {'"sides.one-sided" = "Off";', '"print-quality.3" = "Draft";',
            '"print-quality.4" = "Normal";'} <= lines
    assert not any(line.startswith(('"sides.two-sided', '"print-quality.5"', '"media.'))
                   for line in lines)
    assert '"printer-state-reasons.paused" = "Paused by an administrator";' in lines


def _collection(attrs: list[Attribute], name: str) -> dict[str, object]:
    found = next(a for a in attrs if a.name == name)
    assert found.values[0][0] == Tag.BEGIN_COLLECTION
    col = found.value
    assert isinstance(col, Collection)
    return {m.name: m.value for m in col.attributes}


def test_colour_counts_are_pwg_collections() -> None:
    job = dataclasses.replace(_job(), analysis={"attributes": {
        "job-impressions": 5, "job-impressions-col": 2, "job-media-sheets": 6,
        "job-media-sheets-col": 4, "job-pages": 5}})
    attrs = job_attrs.render(job, Origin("localhost:8631"))
    assert _collection(attrs, "job-impressions-col") == {"full-color": 2, "monochrome": 3}
    assert _collection(attrs, "job-media-sheets-col") == {"full-color": 4, "monochrome": 2}
    assert {a.name: a.value for a in attrs}["job-impressions"] == 5


def test_colour_counts_without_a_total_are_left_out() -> None:
    job = dataclasses.replace(_job(), analysis={"attributes": {"job-impressions-col": 2}})
    names = {a.name for a in job_attrs.render(job, Origin("localhost:8631"))}
    assert "job-impressions-col" not in names


def _completed(state: int, printed: int | None) -> list[Attribute]:
    counted = {"attributes": {"job-impressions": 3, "job-impressions-col": 1}}
    job = dataclasses.replace(_job(), state=JobState(state), impressions_completed=printed,
                              analysis=counted)
    return job_attrs.render(job, Origin("localhost:8631"))   # copies = 2 (stored)


def test_completed_col_when_known_exactly() -> None:
    assert _collection(_completed(9, 6), "job-impressions-completed-col") == {
        "full-color": 2, "monochrome": 4}
    for state, printed in ((9, 5), (9, None), (7, 6), (5, 6)):     # short, unknown, not done
        assert "job-impressions-completed-col" not in {a.name for a in _completed(state,
                                                                                printed)}
