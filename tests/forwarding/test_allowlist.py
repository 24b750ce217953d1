"""The typed allow-list of forwarded job attributes (no I/O)."""

from __future__ import annotations

import pytest

from ippproxy.forwarding.allowlist import job_name, screen
from ippproxy.forwarding.errors import printer_text
from ippproxy.ipp import (
    Attribute,
    Collection,
    Group,
    Message,
    RangeOfInteger,
    StringWithLanguage,
    Tag,
    decode,
    encode,
)


def kw(name: str, value: str) -> Attribute:
    return Attribute.single(name, Tag.KEYWORD, value)


def media_col(**extra: Attribute) -> Attribute:
    size = Collection((Attribute.single("x-dimension", Tag.INTEGER, 21000),
                       Attribute.single("y-dimension", Tag.INTEGER, 29700)))
    members = (Attribute.single("media-size", Tag.BEGIN_COLLECTION, size),
               kw("media-source", "tray-1"), *extra.values())
    return Attribute.single("media-col", Tag.BEGIN_COLLECTION, Collection(members))


def test_known_attributes_pass_with_their_tags() -> None:
    attrs = (Attribute.single("copies", Tag.INTEGER, 3), kw("sides", "two-sided-long-edge"),
             Attribute.single("media", Tag.NAME, "Custom Letterhead"),
             Attribute.multi("page-ranges", Tag.RANGE_OF_INTEGER,
                             (RangeOfInteger(1, 2), RangeOfInteger(5, 9))),
             Attribute.multi("finishings", Tag.ENUM, (4, 5)), media_col())
    out = screen(attrs)
    assert out.kept == attrs and not out.dropped and not out.refused


def test_round_trip_parse_screen_encode_parse() -> None:
    attrs = (Attribute.single("copies", Tag.INTEGER, 2), media_col(),
             kw("print-color-mode", "monochrome"))
    msg = Message((2, 0), 2, 7, (Group(Tag.JOB_ATTRIBUTES, attrs),))
    parsed = decode(encode(msg))
    group = parsed.group(Tag.JOB_ATTRIBUTES)
    assert group is not None
    kept = screen(group.attributes).kept
    again = decode(encode(Message((2, 0), 2, 7, (Group(Tag.JOB_ATTRIBUTES, kept),))))
    assert again == parsed


def test_unknown_and_private_attributes_are_dropped() -> None:
    out = screen((kw("job-hold-until", "indefinite"),
                  Attribute.single("job-account-id", Tag.NAME, "dept"),
                  Attribute.single("x-vendor-secret", Tag.TEXT, "x")))
    assert out.kept == ()
    assert out.dropped == ("job-hold-until", "job-account-id", "x-vendor-secret")


@pytest.mark.parametrize("bad", ["tray\n*FoomaticRIPCommandLine: evil", "a\rb", "nul\x00"])
@pytest.mark.parametrize("tag", [Tag.NAME, Tag.NAME_WITH_LANGUAGE])
def test_cr_lf_nul_are_refused(bad: str, tag: int) -> None:
    value = StringWithLanguage("en", bad) if tag == Tag.NAME_WITH_LANGUAGE else bad
    out = screen((Attribute.single("output-bin", tag, value),))
    assert out.kept == ()
    assert out.refused == (("output-bin", "contains CR, LF or NUL"),)
    assert job_name(bad, "fallback") == "fallback"


def test_nested_collection_member_is_checked() -> None:
    bad = media_col(t=Attribute.single("media-type", Tag.NAME, "x\ny"))
    out = screen((bad,))
    assert out.kept == ()
    assert out.refused[0][0] == "media-col" and "media-type" in out.refused[0][1]
    # unknown members are stripped, known ones kept
    extra = media_col(v=Attribute.single("vendor-thing", Tag.INTEGER, 1))
    [kept] = screen((extra,)).kept
    assert isinstance(kept.value, Collection)
    assert kept.value.names() == ["media-size", "media-source"]


@pytest.mark.parametrize("attr", [
    Attribute.single("copies", Tag.INTEGER, 0),
    Attribute.single("copies", Tag.INTEGER, 100000),
    Attribute.single("copies", Tag.TEXT, "2"),
    kw("sides", "three-sided"),
    kw("media", "UPPER case"),
    Attribute.single("page-ranges", Tag.RANGE_OF_INTEGER, RangeOfInteger(5, 1)),
    Attribute.single("orientation-requested", Tag.ENUM, 99),
    Attribute.multi("finishings", Tag.ENUM, range(3, 100)),
])
def test_bad_values_are_refused(attr: Attribute) -> None:
    out = screen((attr,))
    assert out.kept == () and len(out.refused) == 1


def test_printer_text_is_sanitised() -> None:
    assert printer_text("Out of paper\r\n*Foomatic: x\x1b[31m") == "Out of paper *Foomatic: x[31m"
    assert len(printer_text("x" * 5000)) == 255
    assert printer_text(b"\xff\xfeok") == "\ufffd\ufffdok"
