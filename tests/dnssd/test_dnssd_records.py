"""What a queue announces (ippproxy/dnssd/records.py), from printer attributes as
Get-Printer-Attributes answers them: every TXT key of the Bonjour, AirPrint, IPP Everywhere
and Mopria requirements, the sub-types, and the 255-byte bound of a TXT string."""

from __future__ import annotations

from ippproxy.config import QueueConfig
from ippproxy.dnssd.records import TXT_MAX, announcement, instance_name, txt_record
from ippproxy.ipp import Attribute, Tag


def _attrs(**over: list[object]) -> list[Attribute]:
    base: dict[str, tuple[int, list[object]]] = {
        "printer-make-and-model": (Tag.TEXT, ["HP LaserJet M507"]),
        "document-format-supported": (Tag.MIME_MEDIA_TYPE, [
            "application/octet-stream", "application/pdf", "image/pwg-raster", "image/urf"]),
        "urf-supported": (Tag.KEYWORD, ["V1.4", "W8", "SRGB24", "RS300-600"]),
        "sides-supported": (Tag.KEYWORD, ["one-sided", "two-sided-long-edge"]),
        "color-supported": (Tag.BOOLEAN, [True]),
        "printer-uuid": (Tag.URI, ["urn:uuid:0c5ab0e4-8a3c-5b8b-9b43-4f0d2c1e6a11"]),
        "printer-location": (Tag.TEXT, ["Room 1"]),
        "printer-more-info": (Tag.URI, ["https://print.local:8631/printers/office"]),
        "printer-kind": (Tag.KEYWORD, ["document", "envelope"]),
    }
    out = []
    for name, (tag, values) in base.items():
        values = over.pop(name, values)
        if values:
            out.append(Attribute.multi(name, tag, values))  # type: ignore[arg-type]
    for name, values in over.items():
        out.append(Attribute.multi(name, Tag.KEYWORD, values))  # type: ignore[arg-type]
    return out


def test_the_txt_record_of_a_queue() -> None:
    txt = dict(txt_record(QueueConfig("office", info="Office laser"), _attrs()))
    assert txt == {
        "txtvers": "1", "qtotal": "1", "rp": "printers/office",
        "ty": "HP LaserJet M507", "product": "(HP LaserJet M507)", "priority": "50",
        "note": "Room 1", "adminurl": "https://print.local:8631/printers/office",
        "pdl": "application/pdf,image/pwg-raster,image/urf",
        "URF": "V1.4,W8,SRGB24,RS300-600", "Color": "T", "Duplex": "T",
        "UUID": "0c5ab0e4-8a3c-5b8b-9b43-4f0d2c1e6a11", "kind": "document,envelope",
        "air": "none", "TLS": "1.2"}


def test_monochrome_simplex_no_urf_basic_auth_and_a_mopria_destination() -> None:
    attrs = _attrs(**{"color-supported": [False], "sides-supported": ["one-sided"],
                      "urf-supported": [], "printer-kind": [],
                      "mopria-certified": ["2.1"]})
    txt = dict(txt_record(QueueConfig("q", authentication="basic"), attrs))
    assert (txt["Color"], txt["Duplex"], txt["URF"], txt["kind"]) == ("F", "F", "none",
                                                                      "document")
    assert txt["air"] == "username,password"
    assert txt["mopria-certified"] == "2.1"       # passed through, never invented
    assert "mopria-certified" not in dict(txt_record(QueueConfig("q"), _attrs()))


def test_every_txt_string_fits_255_bytes() -> None:
    formats = [f"application/x-format-number-{i:03d}" for i in range(40)]
    attrs = _attrs(**{"document-format-supported": formats,
                      "printer-make-and-model": ["é" * 300]})
    txt = txt_record(QueueConfig("q"), attrs)
    for key, value in txt:
        assert len(f"{key}={value}".encode()) <= TXT_MAX
    pdl = dict(txt)["pdl"].split(",")
    assert pdl == formats[:len(pdl)] and len(pdl) > 3      # whole formats, in order
    assert dict(txt)["ty"] == "é" * 126                    # whole characters


def test_both_services_with_their_subtypes() -> None:
    ann = announcement(QueueConfig("office", info="Office laser"), _attrs(), 8631)
    assert [(s.name, s.type, s.port, s.subtypes) for s in ann.services] == [
        ("Office laser", "_ipp._tcp", 8631,
         ("_print._sub._ipp._tcp", "_universal._sub._ipp._tcp")),
        ("Office laser", "_ipps._tcp", 8631,
         ("_print._sub._ipps._tcp", "_universal._sub._ipps._tcp"))]
    assert ann.services[0].txt == ann.services[1].txt
    assert instance_name(QueueConfig("lab")) == "lab"
    assert len(instance_name(QueueConfig("q", info="x" * 100)).encode()) == 63
